// Minimal harness for the native cores' plain C++ tests: TEST(name) registers a case, CHECK and
// CHECK_EQ count passes and failures without aborting, and main() runs every case (or those whose
// name contains argv[1]) and ends with exactly "N passed, N failed", counting test cases.
#pragma once

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace meshlet::test {

using TestFn = void (*)();
struct TestCase {
  const char* name;
  TestFn fn;
};

inline std::vector<TestCase>& Registry() {
  static std::vector<TestCase> cases;
  return cases;
}

inline bool Register(const char* name, TestFn fn) {
  Registry().push_back({name, fn});
  return true;
}

struct CaseCounters {
  size_t checks_passed = 0;
  size_t checks_failed = 0;
};

inline CaseCounters& Current() {
  static CaseCounters counters;
  return counters;
}

// Failures printed per case before going quiet, so a broken loop over every prefix stays readable.
constexpr size_t kMaxPrintedFailures = 25;

// Context printed with every failure while a ScopedTrace is alive (e.g. the table row under test).
inline std::vector<std::string>& TraceStack() {
  static std::vector<std::string> stack;
  return stack;
}

class ScopedTrace {
 public:
  explicit ScopedTrace(std::string context) { TraceStack().push_back(std::move(context)); }
  ~ScopedTrace() { TraceStack().pop_back(); }
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;
};

template <typename T>
std::string Show(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<long long>(static_cast<std::underlying_type_t<T>>(value)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);  // also for char types: show the number, not the glyph
  } else {
    std::ostringstream out;
    out << value;
    return out.str();
  }
}

// Equality that compares integers by value whatever their signedness (no -Wsign-compare traps).
template <typename A, typename B>
bool Equal(const A& a, const B& b) {
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B> &&
                std::is_signed_v<A> != std::is_signed_v<B>) {
    if constexpr (std::is_signed_v<A>) {
      return a >= 0 && static_cast<unsigned long long>(a) == static_cast<unsigned long long>(b);
    } else {
      return b >= 0 && static_cast<unsigned long long>(a) == static_cast<unsigned long long>(b);
    }
  } else {
    return a == b;
  }
}

inline void Pass() { ++Current().checks_passed; }

inline void Fail(const char* file, int line, const std::string& what) {
  if (++Current().checks_failed > kMaxPrintedFailures) return;
  std::printf("  FAIL %s:%d: %s\n", file, line, what.c_str());
  for (const std::string& context : TraceStack()) std::printf("       while: %s\n", context.c_str());
}

}  // namespace meshlet::test

#define TEST(name)                                                                     \
  static void name();                                                                  \
  [[maybe_unused]] static const bool name##_registered = ::meshlet::test::Register(#name, name); \
  static void name()

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (cond) {                                                           \
      ::meshlet::test::Pass();                                            \
    } else {                                                              \
      ::meshlet::test::Fail(__FILE__, __LINE__, "CHECK(" #cond ")");      \
    }                                                                     \
  } while (0)

#define CHECK_EQ(a, b)                                                                    \
  do {                                                                                    \
    const auto& check_a_ = (a);                                                           \
    const auto& check_b_ = (b);                                                           \
    if (::meshlet::test::Equal(check_a_, check_b_)) {                                     \
      ::meshlet::test::Pass();                                                            \
    } else {                                                                              \
      ::meshlet::test::Fail(__FILE__, __LINE__,                                           \
                            "CHECK_EQ(" #a ", " #b "): " + ::meshlet::test::Show(check_a_) + \
                                " != " + ::meshlet::test::Show(check_b_));                \
    }                                                                                     \
  } while (0)

// Adds `context` (a std::string expression) to failures reported in the rest of the scope.
#define CHECK_CONCAT_INNER_(a, b) a##b
#define CHECK_CONCAT_(a, b) CHECK_CONCAT_INNER_(a, b)
#define TRACE(context) ::meshlet::test::ScopedTrace CHECK_CONCAT_(check_trace_, __LINE__)(context)

#ifndef MESHLET_TEST_NO_MAIN
int main(int argc, char** argv) {
  using namespace meshlet::test;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  size_t cases_passed = 0;
  size_t cases_failed = 0;
  for (const TestCase& test_case : Registry()) {
    if (filter != nullptr && std::strstr(test_case.name, filter) == nullptr) continue;
    Current() = CaseCounters{};
    test_case.fn();
    const CaseCounters& counters = Current();
    if (counters.checks_failed == 0) {
      ++cases_passed;
      std::printf("ok   %s (%zu checks)\n", test_case.name, counters.checks_passed);
    } else {
      ++cases_failed;
      std::printf("FAIL %s (%zu of %zu checks failed)\n", test_case.name, counters.checks_failed,
                  counters.checks_failed + counters.checks_passed);
    }
  }
  std::printf("%zu passed, %zu failed\n", cases_passed, cases_failed);
  return cases_failed == 0 ? 0 : 1;
}
#endif
