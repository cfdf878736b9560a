// Tests for native/frontdoor/connection.h: ids are unique and never 0, a buried connection leaves every
// lookup at once but its memory stays valid (under ASan) until the turn ends, and Ids() is a copy
// that survives burying while walking it.
#include "frontdoor/connection.h"

#include <memory>

#include "test/check.h"

namespace {

using meshlet::frontdoor::Conn;
using meshlet::frontdoor::ConnTable;

TEST(ids_are_unique_and_never_zero) {
  ConnTable table;
  Conn& a = table.Add(std::make_unique<Conn>());
  Conn& b = table.Add(std::make_unique<Conn>());
  CHECK(a.id != 0);
  CHECK(b.id != a.id);
  CHECK(table.Find(a.id) == &a);
  CHECK(table.Find(b.id) == &b);
  CHECK(table.Find(0) == nullptr);
  CHECK_EQ(table.size(), size_t{2});
}

TEST(a_buried_connection_stays_valid_until_the_turn_ends) {
  ConnTable table;
  Conn& c = table.Add(std::make_unique<Conn>());
  uint64_t id = c.id;
  c.sni = "held by a caller";
  table.Bury(c);
  CHECK(table.Find(id) == nullptr);  // an event later in the turn finds nothing
  CHECK_EQ(table.size(), size_t{0});
  CHECK_EQ(table.buried(), size_t{1});
  // The caller's reference still names live memory (ASan would report a use after free otherwise).
  c.closed = true;
  CHECK_EQ(c.sni, std::string("held by a caller"));
  table.Bury(c);  // burying twice does nothing
  CHECK_EQ(table.buried(), size_t{1});
  table.EndTurn();
  CHECK_EQ(table.buried(), size_t{0});
}

TEST(ids_is_a_copy_safe_to_bury_while_walking) {
  ConnTable table;
  for (int i = 0; i < 100; i++) table.Add(std::make_unique<Conn>());
  size_t walked = 0;
  for (uint64_t id : table.Ids()) {
    Conn* c = table.Find(id);
    CHECK(c != nullptr);
    if (c) table.Bury(*c);
    walked++;
  }
  CHECK_EQ(walked, size_t{100});
  CHECK_EQ(table.size(), size_t{0});
  table.EndTurn();
}

}  // namespace
