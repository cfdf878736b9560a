// Tests for native/frontdoor/transport_stats.h: cells found by (direction, peer, target) through the
// hash index — the same key finds the same cell, any differing part makes a new one, connections
// without a target share one cell — and Snapshot() copies counters and non-zero closes.
#include "frontdoor/transport_stats.h"

#include <string>

#include "test/check.h"

namespace {

using meshlet::frontdoor::Endpoint;
using meshlet::frontdoor::Peer;
using meshlet::frontdoor::TransportStats;

Endpoint Ep(const std::string& ip, uint16_t port) {
  Endpoint e;
  Endpoint::FromIp(ip, port, &e);
  return e;
}

TEST(same_key_same_cell_any_difference_new_cell) {
  TransportStats stats;
  auto* a = stats.Cell(0, Peer::kSrc, Ep("10.0.0.1", 80));
  CHECK(stats.Cell(0, Peer::kSrc, Ep("10.0.0.1", 80)) == a);
  CHECK(stats.Cell(1, Peer::kSrc, Ep("10.0.0.1", 80)) != a);
  CHECK(stats.Cell(0, Peer::kDst, Ep("10.0.0.1", 80)) != a);
  CHECK(stats.Cell(0, Peer::kSrc, Ep("10.0.0.1", 81)) != a);
  CHECK(stats.Cell(0, Peer::kSrc, Ep("10.0.0.2", 80)) != a);
  CHECK(stats.Cell(0, Peer::kSrc, Ep("::ffff:10.0.0.1", 80)) != a);  // another family, another series
  auto* v6 = stats.Cell(0, Peer::kSrc, Ep("fd00::1", 80));
  CHECK(stats.Cell(0, Peer::kSrc, Ep("fd00:0::1", 80)) == v6);
  CHECK(stats.Cell(0, Peer::kSrc, Ep("fd00::2", 80)) != v6);
  CHECK_EQ(stats.size(), size_t{8});
}

TEST(connections_without_target_share_one_cell) {
  TransportStats stats;
  Endpoint none;
  auto* first = stats.Cell(1, Peer::kSrc, none);
  for (int i = 0; i < 1000; i++) CHECK(stats.Cell(1, Peer::kSrc, Endpoint{}) == first);
  CHECK_EQ(stats.size(), size_t{1});
}

TEST(many_targets_each_found_again) {
  TransportStats stats;
  std::vector<meshlet::frontdoor::TransportCell*> cells;
  for (int i = 0; i < 5000; i++) {
    cells.push_back(stats.Cell(0, Peer::kDst, Ep("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250), 8080)));
  }
  CHECK_EQ(stats.size(), size_t{5000});
  for (int i = 0; i < 5000; i++) {
    CHECK(stats.Cell(0, Peer::kDst, Ep("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250), 8080)) == cells[i]);
  }
}

TEST(snapshot_copies_counters_and_nonzero_closes) {
  TransportStats stats;
  auto* cell = stats.Cell(1, Peer::kDst, Ep("127.0.0.1", 9000));
  cell->open_total.fetch_add(3);
  cell->open_now.fetch_add(3);
  cell->read_bytes.fetch_add(100);
  cell->write_bytes.fetch_add(7);
  cell->CountClose(0);
  cell->CountClose(111);
  cell->CountClose(111);
  cell->CountClose(100000);  // folded into the last slot
  auto rows = stats.Snapshot();
  CHECK_EQ(rows.size(), size_t{1});
  const auto& row = rows[0];
  CHECK_EQ(row.direction, uint8_t{1});
  CHECK(row.peer == Peer::kDst);
  CHECK_EQ(row.target.port(), uint16_t{9000});
  CHECK_EQ(row.open_total, uint64_t{3});
  CHECK_EQ(row.open_now, int64_t{-1});
  CHECK_EQ(row.read_bytes, uint64_t{100});
  CHECK_EQ(row.write_bytes, uint64_t{7});
  CHECK_EQ(row.closes.size(), size_t{3});
  CHECK_EQ(row.closes[0].first, 0);
  CHECK_EQ(row.closes[0].second, uint64_t{1});
  CHECK_EQ(row.closes[1].first, 111);
  CHECK_EQ(row.closes[1].second, uint64_t{2});
  CHECK_EQ(row.closes[2].first, meshlet::frontdoor::kMaxTrackedErrno);
}

}  // namespace
