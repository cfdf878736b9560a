// Node-API glue of the inbound L4 policy (see inbound_policy_napi.h). The table is built here on the
// JS thread, completely, before the front door sees it; a malformed one changes nothing.
#include "inbound_policy_napi.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "policy/l4_policy.h"

namespace meshlet::addon {
namespace {

using policy::Cidr;
using policy::Entry;
using policy::Network;
using policy::Rule;

struct PolicyState {
  policy::CounterStore counters;
  std::shared_ptr<const policy::Table> latest;  // JS thread only
  std::string last_error;                       // JS thread only
};

PolicyState& State() {
  static PolicyState state;
  return state;
}

// Walks the JS table, remembering the first problem with its location ("entries[2].entry.mode").
class TableReader {
 public:
  explicit TableReader(policy::CounterStore& counters) : counters_(counters) {}

  const std::string& error() const { return error_; }
  int error_errno() const { return errno_; }

  std::shared_ptr<const policy::Table> Read(const Napi::Value& value) {
    if (!value.IsObject() || value.IsArray()) return Fail("table", "must be an object");
    Napi::Object table = value.As<Napi::Object>();
    double generation;
    if (!Integer(table.Get("generation"), "generation", 9007199254740991.0, &generation)) return nullptr;
    Entry default_entry;
    if (!ReadEntry(table.Get("defaultEntry"), "defaultEntry", &default_entry)) return nullptr;
    Napi::Value entries_js = table.Get("entries");
    if (!entries_js.IsArray()) return Fail("entries", "must be an array");
    Napi::Array entries = entries_js.As<Napi::Array>();
    std::vector<std::pair<uint16_t, Entry>> ports;
    ports.reserve(entries.Length());
    for (uint32_t i = 0; i < entries.Length(); i++) {
      std::string path = "entries[" + std::to_string(i) + "]";
      Napi::Value item = entries.Get(i);
      if (!item.IsObject() || item.IsArray()) return Fail(path, "must be an object { port, entry }");
      double port;
      if (!Integer(item.As<Napi::Object>().Get("port"), path + ".port", 65535, &port)) return nullptr;
      if (port < 1) return Fail(path + ".port", "must be 1-65535");
      Entry entry;
      if (!ReadEntry(item.As<Napi::Object>().Get("entry"), path + ".entry", &entry)) return nullptr;
      ports.emplace_back(static_cast<uint16_t>(port), std::move(entry));
    }
    std::vector<uint16_t> numbers;
    for (const auto& [port, entry] : ports) numbers.push_back(port);
    std::sort(numbers.begin(), numbers.end());
    auto twice = std::adjacent_find(numbers.begin(), numbers.end());
    if (twice != numbers.end()) return Fail("entries", "port " + std::to_string(*twice) + " has more than one entry");
    if (!BindCounters(&default_entry, "defaultEntry")) return nullptr;
    for (size_t i = 0; i < ports.size(); i++) {
      if (!BindCounters(&ports[i].second, "entries[" + std::to_string(i) + "].entry")) return nullptr;
    }
    auto built = std::make_shared<policy::Table>(static_cast<uint64_t>(generation), std::move(default_entry));
    built->SetPorts(std::move(ports));  // no duplicates: checked above
    return built;
  }

 private:
  std::nullptr_t Fail(const std::string& path, const std::string& what, int err = EINVAL) {
    if (error_.empty()) {
      error_ = path + ": " + what;
      errno_ = err;
    }
    return nullptr;
  }

  bool Integer(const Napi::Value& v, const std::string& path, double max, double* out) {
    if (!v.IsNumber()) return Fail(path, "must be a number"), false;
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= max) || d != std::floor(d)) {
      return Fail(path, "must be a whole number from 0 to " + std::to_string(static_cast<uint64_t>(max))), false;
    }
    *out = d;
    return true;
  }

  bool Boolean(const Napi::Value& v, const std::string& path, bool* out) {
    if (!v.IsBoolean()) return Fail(path, "must be a boolean"), false;
    *out = v.As<Napi::Boolean>().Value();
    return true;
  }

  bool Array(const Napi::Value& v, const std::string& path, Napi::Array* out) {
    if (!v.IsArray()) return Fail(path, "must be an array"), false;
    *out = v.As<Napi::Array>();
    return true;
  }

  bool ReadCidr(const Napi::Value& v, const std::string& path, Cidr* out) {
    if (!v.IsString()) return Fail(path, "must be a string"), false;
    std::string text = v.As<Napi::String>().Utf8Value();
    if (!Cidr::Parse(text, out)) return Fail(path, "not an IPv4 or IPv6 network: \"" + text.substr(0, 64) + "\""), false;
    return true;
  }

  bool ReadNetwork(const Napi::Value& v, const std::string& path, Network* out) {
    if (!v.IsObject() || v.IsArray()) return Fail(path, "must be an object { cidr, except }"), false;
    Napi::Object obj = v.As<Napi::Object>();
    if (!ReadCidr(obj.Get("cidr"), path + ".cidr", &out->cidr)) return false;
    Napi::Array except;
    if (!Array(obj.Get("except"), path + ".except", &except)) return false;
    out->except.resize(except.Length());
    for (uint32_t i = 0; i < except.Length(); i++) {
      if (!ReadCidr(except.Get(i), path + ".except[" + std::to_string(i) + "]", &out->except[i])) return false;
    }
    return true;
  }

  bool ReadRule(const Napi::Value& v, const std::string& path, Rule* out) {
    if (!v.IsObject() || v.IsArray()) return Fail(path, "must be an object { networks, requireIdentity }"), false;
    Napi::Object obj = v.As<Napi::Object>();
    Napi::Array networks;
    if (!Array(obj.Get("networks"), path + ".networks", &networks)) return false;
    out->networks.resize(networks.Length());
    for (uint32_t i = 0; i < networks.Length(); i++) {
      if (!ReadNetwork(networks.Get(i), path + ".networks[" + std::to_string(i) + "]", &out->networks[i])) return false;
    }
    return Boolean(obj.Get("requireIdentity"), path + ".requireIdentity", &out->require_identity);
  }

  bool ReadEntry(const Napi::Value& v, const std::string& path, Entry* out) {
    if (!v.IsObject() || v.IsArray()) return Fail(path, "must be an object { id, mode, rules, audit }"), false;
    Napi::Object obj = v.As<Napi::Object>();
    double id;
    if (!Integer(obj.Get("id"), path + ".id", 4294967295.0, &id)) return false;
    out->id = static_cast<uint32_t>(id);
    Napi::Value mode = obj.Get("mode");
    std::string mode_text = mode.IsString() ? mode.As<Napi::String>().Utf8Value() : std::string();
    if (mode_text == "deny") {
      out->mode = policy::Mode::kDeny;
    } else if (mode_text == "check") {
      out->mode = policy::Mode::kCheck;
    } else {
      return Fail(path + ".mode", "must be \"deny\" or \"check\""), false;
    }
    Napi::Array rules;
    if (!Array(obj.Get("rules"), path + ".rules", &rules)) return false;
    out->rules.resize(rules.Length());
    for (uint32_t i = 0; i < rules.Length(); i++) {
      if (!ReadRule(rules.Get(i), path + ".rules[" + std::to_string(i) + "]", &out->rules[i])) return false;
    }
    return Boolean(obj.Get("audit"), path + ".audit", &out->audit);
  }

  // Counter cells are created only once the whole table read well.
  bool BindCounters(Entry* entry, const std::string& path) {
    entry->counters = counters_.Get(entry->id);
    if (entry->counters != nullptr) return true;
    return Fail(path + ".id", "more than " + std::to_string(policy::CounterStore::kMaxIds) + " distinct entry ids", ENOSPC), false;
  }

  policy::CounterStore& counters_;
  std::string error_;
  int errno_ = 0;
};

}  // namespace

Napi::Value SetInboundPolicy(const Napi::CallbackInfo& info, frontdoor::FrontDoor* front_door) {
  Napi::Env env = info.Env();
  PolicyState& state = State();
  TableReader reader(state.counters);
  std::shared_ptr<const policy::Table> table = reader.Read(info[0]);
  if (!table) {
    state.last_error = reader.error();
    return Napi::Number::New(env, -reader.error_errno());
  }
  state.last_error.clear();
  state.latest = table;
  if (front_door != nullptr) front_door->SetInboundPolicy(std::move(table));
  return Napi::Number::New(env, 0);
}

Napi::Value InboundPolicyStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<policy::CountersRow> rows = State().counters.Snapshot();  // copied under the lock
  Napi::Array out = Napi::Array::New(env, rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    Napi::Object row = Napi::Object::New(env);
    row.Set("id", rows[i].id);
    row.Set("allow", static_cast<double>(rows[i].allow));
    row.Set("deny", static_cast<double>(rows[i].deny));
    row.Set("terminate", static_cast<double>(rows[i].terminate));
    out.Set(static_cast<uint32_t>(i), row);
  }
  return out;
}

Napi::Value InboundPolicyError(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), State().last_error);
}

void ApplyInboundPolicy(frontdoor::FrontDoor& front_door) {
  if (State().latest) front_door.SetInboundPolicy(State().latest);
}

}  // namespace meshlet::addon
