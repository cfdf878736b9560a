// Tests for native/policy/l4_policy.h: CIDR parsing and matching (except, IPv4, IPv6, IPv4-mapped),
// rule and entry verdicts (identity, deny mode, audit, empty rules), port lookup, counters.
#include "policy/l4_policy.h"

#include <string>
#include <thread>

#include "test/check.h"

namespace {

using meshlet::policy::Address;
using meshlet::policy::Cidr;
using meshlet::policy::CounterStore;
using meshlet::policy::Decision;
using meshlet::policy::Entry;
using meshlet::policy::Mode;
using meshlet::policy::Network;
using meshlet::policy::Rule;
using meshlet::policy::Table;

Address Ip(const char* text) {
  Address a;
  bool ok = Address::Parse(text, &a);
  CHECK(ok);
  return a;
}

Cidr Net(const char* text) {
  Cidr c;
  bool ok = Cidr::Parse(text, &c);
  CHECK(ok);
  return c;
}

Network NetworkOf(const char* cidr, std::vector<const char*> except = {}) {
  Network n;
  n.cidr = Net(cidr);
  for (const char* e : except) n.except.push_back(Net(e));
  return n;
}

Rule RuleOf(std::vector<Network> networks, bool require_identity = false) {
  Rule r;
  r.networks = std::move(networks);
  r.require_identity = require_identity;
  return r;
}

Entry EntryOf(uint32_t id, Mode mode, std::vector<Rule> rules, bool audit = false) {
  Entry e;
  e.id = id;
  e.mode = mode;
  e.rules = std::move(rules);
  e.audit = audit;
  return e;
}

TEST(ParsesAddresses) {
  Address a;
  CHECK(Address::Parse("10.1.2.3", &a));
  CHECK_EQ(a.family, AF_INET);
  CHECK_EQ(a.bytes[0], 10);
  CHECK_EQ(a.bytes[3], 3);
  CHECK(Address::Parse("fd00::1", &a));
  CHECK_EQ(a.family, AF_INET6);
  CHECK_EQ(a.bytes[0], 0xfd);
  CHECK_EQ(a.bytes[15], 1);
  // IPv4-mapped becomes IPv4.
  CHECK(Address::Parse("::ffff:192.168.1.9", &a));
  CHECK_EQ(a.family, AF_INET);
  CHECK_EQ(a.bytes[0], 192);
  CHECK_EQ(a.bytes[3], 9);
  for (const char* bad : {"", "10.1.2", "10.1.2.3.4", "256.1.1.1", " 10.1.2.3", "10.1.2.3 ", "[::1]", "fe80::1%eth0",
                          "01.2.3.4", "example.com", "::g", "10.1.2.3/8"}) {
    TRACE(std::string("bad address ") + bad);
    CHECK(!Address::Parse(bad, &a));
  }
  CHECK(!Address::Parse(std::string_view("10.0.0.1\0x", 10), &a));
}

TEST(ParsesCidrs) {
  Cidr c = Net("10.0.0.0/8");
  CHECK_EQ(c.network.family, AF_INET);
  CHECK_EQ(c.prefix_bits, 8);
  // Host bits are cleared.
  c = Net("10.1.2.3/8");
  CHECK_EQ(c.network.bytes[1], 0);
  CHECK_EQ(c.network.bytes[3], 0);
  c = Net("10.1.2.3/20");
  CHECK_EQ(c.network.bytes[2], 0);
  c = Net("10.1.18.3/20");
  CHECK_EQ(c.network.bytes[2], 16);
  // A bare address is a host.
  c = Net("192.168.0.7");
  CHECK_EQ(c.prefix_bits, 32);
  c = Net("fd00::7");
  CHECK_EQ(c.prefix_bits, 128);
  c = Net("::/0");
  CHECK_EQ(c.network.family, AF_INET6);
  CHECK_EQ(c.prefix_bits, 0);
  c = Net("0.0.0.0/0");
  CHECK_EQ(c.prefix_bits, 0);
  // IPv4-mapped networks of prefix >= 96 are IPv4 networks; shorter ones stay IPv6.
  c = Net("::ffff:10.0.0.0/104");
  CHECK_EQ(c.network.family, AF_INET);
  CHECK_EQ(c.prefix_bits, 8);
  c = Net("::ffff:10.9.0.1");
  CHECK_EQ(c.network.family, AF_INET);
  CHECK_EQ(c.prefix_bits, 32);
  c = Net("::ffff:0.0.0.0/95");
  CHECK_EQ(c.network.family, AF_INET6);
  CHECK_EQ(c.prefix_bits, 95);
  Cidr out;
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/0008", "10.0.0.0/8/8",
                          "10.0.0/8", "/8", "", "10.0.0.0 /8", "10.0.0.0/ 8", "::ffff:10.0.0.0/129", "any"}) {
    TRACE(std::string("bad cidr ") + bad);
    CHECK(!Cidr::Parse(bad, &out));
  }
}

TEST(CidrMatchesItsFamilyOnly) {
  CHECK(Net("10.0.0.0/8").Contains(Ip("10.255.1.2")));
  CHECK(!Net("10.0.0.0/8").Contains(Ip("11.0.0.1")));
  CHECK(Net("172.16.0.0/12").Contains(Ip("172.31.255.255")));
  CHECK(!Net("172.16.0.0/12").Contains(Ip("172.32.0.0")));
  CHECK(Net("0.0.0.0/0").Contains(Ip("203.0.113.9")));
  CHECK(!Net("0.0.0.0/0").Contains(Ip("::1")));
  CHECK(Net("::/0").Contains(Ip("2001:db8::1")));
  CHECK(!Net("::/0").Contains(Ip("10.0.0.1")));  // as ipnet: families never contain each other
  CHECK(Net("fd00::/8").Contains(Ip("fdff::1")));
  CHECK(!Net("fd00::/8").Contains(Ip("fe00::1")));
  CHECK(Net("127.0.0.1").Contains(Ip("127.0.0.1")));
  CHECK(!Net("127.0.0.1").Contains(Ip("127.0.0.2")));
  // Mapped clients (a dual-stack listener) match IPv4 networks, and mapped networks match IPv4 clients.
  CHECK(Net("127.0.0.0/8").Contains(Ip("::ffff:127.0.0.1")));
  CHECK(Net("::ffff:127.0.0.0/104").Contains(Ip("127.3.2.1")));
  CHECK(!Net("::1/128").Contains(Ip("::ffff:127.0.0.1")));
  CHECK(!Net("10.0.0.0/8").Contains(Address{}));  // no address matches nothing
  // Every prefix length of an IPv4 network.
  for (int bits = 0; bits <= 32; bits++) {
    TRACE("prefix " + std::to_string(bits));
    Cidr c = Net(("192.168.170.85/" + std::to_string(bits)).c_str());
    CHECK(c.Contains(Ip("192.168.170.85")));
    if (bits > 0) {
      // Flip the last bit inside the prefix: outside.
      uint32_t value = 0xC0A8AA55u ^ (1u << (32 - bits));
      Address other;
      uint8_t raw[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
                        static_cast<uint8_t>(value)};
      other = Address::V4(raw);
      CHECK(!c.Contains(other));
    }
    if (bits < 32) {
      // Flip the first host bit: inside.
      uint32_t value = 0xC0A8AA55u ^ (1u << (31 - bits));
      uint8_t raw[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
                        static_cast<uint8_t>(value)};
      CHECK(c.Contains(Address::V4(raw)));
    }
  }
}

TEST(ExceptCarvesOutOfTheNetwork) {
  Network n = NetworkOf("10.0.0.0/8", {"10.1.0.0/16", "10.2.3.4"});
  CHECK(n.Contains(Ip("10.0.0.1")));
  CHECK(!n.Contains(Ip("10.1.200.1")));
  CHECK(!n.Contains(Ip("10.2.3.4")));
  CHECK(n.Contains(Ip("10.2.3.5")));
  CHECK(!n.Contains(Ip("11.0.0.1")));
  // An exception of the other family takes nothing away.
  Network v6 = NetworkOf("::/0", {"10.0.0.0/8", "fd00::/8"});
  CHECK(v6.Contains(Ip("2001:db8::1")));
  CHECK(!v6.Contains(Ip("fd12::1")));
  Network mapped = NetworkOf("0.0.0.0/0", {"::ffff:127.0.0.0/104"});
  CHECK(!mapped.Contains(Ip("127.0.0.1")));
  CHECK(!mapped.Contains(Ip("::ffff:127.0.0.1")));
  CHECK(mapped.Contains(Ip("8.8.8.8")));
}

TEST(RulesNeedANetworkAndTheIdentityTheyRequire) {
  Rule any = RuleOf({NetworkOf("10.0.0.0/8"), NetworkOf("fd00::/8")});
  CHECK(any.Matches(Ip("10.0.0.1"), false));
  CHECK(any.Matches(Ip("fd00::1"), false));
  CHECK(!any.Matches(Ip("192.168.0.1"), false));
  Rule authenticated = RuleOf({NetworkOf("0.0.0.0/0"), NetworkOf("::/0")}, true);
  CHECK(!authenticated.Matches(Ip("10.0.0.1"), false));
  CHECK(authenticated.Matches(Ip("10.0.0.1"), true));
  Rule no_networks = RuleOf({});
  CHECK(!no_networks.Matches(Ip("10.0.0.1"), true));
}

TEST(EntryVerdicts) {
  Address inside = Ip("10.0.0.1");
  Address outside = Ip("192.0.2.1");
  Entry check = EntryOf(1, Mode::kCheck, {RuleOf({NetworkOf("10.0.0.0/8")})});
  CHECK(check.Allows(inside, false));
  CHECK(!check.Allows(outside, false));
  CHECK(!check.RefusesAtAccept());
  // The first matching rule is enough; an identity rule before it does not hide it.
  Entry two = EntryOf(2, Mode::kCheck, {RuleOf({NetworkOf("0.0.0.0/0")}, true), RuleOf({NetworkOf("192.0.2.0/24")})});
  CHECK(two.Allows(outside, false));
  CHECK(!two.Allows(inside, false));
  CHECK(two.Allows(inside, true));
  // No rules: a Server without authorizations denies everything.
  Entry empty = EntryOf(3, Mode::kCheck, {});
  CHECK(!empty.Allows(inside, false));
  CHECK(!empty.Allows(inside, true));
  // Deny mode refuses everyone, at accept, whatever the rules say.
  Entry deny = EntryOf(4, Mode::kDeny, {RuleOf({NetworkOf("0.0.0.0/0")})});
  CHECK(deny.RefusesAtAccept());
  CHECK(!deny.Allows(inside, true));
  // Audit allows what would be denied, deny mode included (and then nothing is refused at accept).
  Entry audit = EntryOf(5, Mode::kCheck, {}, true);
  CHECK(audit.Allows(outside, false));
  Entry deny_audit = EntryOf(6, Mode::kDeny, {}, true);
  CHECK(!deny_audit.RefusesAtAccept());
  CHECK(deny_audit.Allows(outside, false));
}

TEST(TableLooksUpPortsAndFallsBackToTheDefault) {
  Table table(7, EntryOf(0, Mode::kCheck, {RuleOf({NetworkOf("0.0.0.0/0"), NetworkOf("::/0")})}));
  std::vector<std::pair<uint16_t, Entry>> ports;
  ports.emplace_back(6379, EntryOf(1, Mode::kCheck, {RuleOf({NetworkOf("10.0.0.0/8")})}));
  ports.emplace_back(80, EntryOf(2, Mode::kDeny, {}));
  ports.emplace_back(65535, EntryOf(3, Mode::kCheck, {}));
  ports.emplace_back(1, EntryOf(4, Mode::kCheck, {}, true));
  CHECK_EQ(table.SetPorts(std::move(ports)), 0);
  CHECK_EQ(table.generation(), 7u);
  CHECK_EQ(table.ForPort(6379).id, 1u);
  CHECK_EQ(table.ForPort(80).id, 2u);
  CHECK_EQ(table.ForPort(65535).id, 3u);
  CHECK_EQ(table.ForPort(1).id, 4u);
  CHECK_EQ(table.ForPort(81).id, 0u);
  CHECK_EQ(table.ForPort(0).id, 0u);
  Decision d = table.Decide(6379, Ip("192.0.2.1"), false);
  CHECK_EQ(d.entry->id, 1u);
  CHECK(!d.allowed);
  d = table.Decide(6379, Ip("::ffff:10.3.3.3"), false);
  CHECK(d.allowed);
  d = table.Decide(8080, Ip("192.0.2.1"), false);
  CHECK_EQ(d.entry->id, 0u);
  CHECK(d.allowed);
  d = table.Decide(8080, Ip("2001:db8::5"), false);
  CHECK(d.allowed);
  d = table.Decide(1, Ip("2001:db8::5"), false);
  CHECK(d.allowed);  // audit
  d = table.Decide(65535, Ip("10.0.0.1"), false);
  CHECK(!d.allowed);

  Table empty(1, EntryOf(9, Mode::kCheck, {}));
  CHECK_EQ(empty.SetPorts({}), 0);
  CHECK_EQ(empty.ForPort(443).id, 9u);
  CHECK(!empty.Decide(443, Ip("127.0.0.1"), false).allowed);
}

TEST(TableReportsADuplicatePort) {
  Table table(1, EntryOf(0, Mode::kCheck, {}));
  std::vector<std::pair<uint16_t, Entry>> ports;
  ports.emplace_back(9000, EntryOf(1, Mode::kCheck, {}));
  ports.emplace_back(80, EntryOf(2, Mode::kCheck, {}));
  ports.emplace_back(9000, EntryOf(3, Mode::kCheck, {}));
  CHECK_EQ(table.SetPorts(std::move(ports)), 9000);
}

TEST(CountersPerIdOutliveTablesAndSnapshotConsistently) {
  CounterStore store;
  Entry allow = EntryOf(11, Mode::kCheck, {RuleOf({NetworkOf("0.0.0.0/0")})});
  allow.counters = store.Get(11);
  Entry deny = EntryOf(12, Mode::kDeny, {});
  deny.counters = store.Get(12);
  CHECK(store.Get(11) == allow.counters);
  Decision yes{&allow, true};
  Decision no{&deny, false};
  meshlet::policy::CountDecision(yes);
  meshlet::policy::CountDecision(yes);
  meshlet::policy::CountDecision(no);
  meshlet::policy::CountTerminate(deny);
  // Counting from another thread while snapshots are taken: totals add up.
  std::thread worker([&] {
    for (int i = 0; i < 10000; i++) meshlet::policy::CountDecision(yes);
  });
  for (int i = 0; i < 100; i++) (void)store.Snapshot();
  worker.join();
  auto rows = store.Snapshot();
  CHECK_EQ(rows.size(), 2u);
  CHECK_EQ(rows[0].id, 11u);
  CHECK_EQ(rows[0].allow, 10002u);
  CHECK_EQ(rows[0].deny, 0u);
  CHECK_EQ(rows[1].id, 12u);
  CHECK_EQ(rows[1].deny, 1u);
  CHECK_EQ(rows[1].terminate, 1u);
  // Entries without counters (no store) are not counted and do not crash.
  Entry bare = EntryOf(13, Mode::kCheck, {});
  meshlet::policy::CountDecision(Decision{&bare, false});
  meshlet::policy::CountTerminate(bare);
  CHECK_EQ(store.Snapshot().size(), 2u);
}

TEST(CounterStoreIsBounded) {
  CounterStore store;
  for (uint32_t id = 0; id < CounterStore::kMaxIds; id++) {
    if (store.Get(id) == nullptr) {
      CHECK(false);
      break;
    }
  }
  CHECK(store.Get(CounterStore::kMaxIds) == nullptr);
  CHECK(store.Get(5) != nullptr);  // existing ids still resolve
}

TEST(AddressFromSockaddr) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(0x0A000001);
  Address a = Address::FromSockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  CHECK_EQ(a.family, AF_INET);
  CHECK(Net("10.0.0.1").Contains(a));
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "::ffff:10.0.0.1", &v6.sin6_addr);
  a = Address::FromSockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  CHECK_EQ(a.family, AF_INET);
  CHECK(Net("10.0.0.1").Contains(a));
  ::inet_pton(AF_INET6, "fd00::2", &v6.sin6_addr);
  a = Address::FromSockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  CHECK_EQ(a.family, AF_INET6);
  CHECK(Net("fd00::/8").Contains(a));
  a = Address::FromSockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof(sockaddr_in));  // too short
  CHECK_EQ(a.family, 0);
}

}  // namespace
