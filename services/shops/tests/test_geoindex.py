"""The grid index against brute force, and the per-service index following shop changes."""

from __future__ import annotations

import random
import time

from shops.nearest.domain import ServicePoint, ServicePointIndex
from shops.nearest.geoindex import GridIndex, haversine_m
from shops.offers.hours import WeeklyHours
from shops.register.domain import ShopCard, ShopKind

DUOMO = (9.1900, 45.4642)


def milan_points(rng: random.Random, n: int) -> list[tuple[str, float, float]]:
    return [(f"p{i}", 9.04 + rng.random() * 0.24, 45.39 + rng.random() * 0.15) for i in range(n)]


def test_haversine_matches_known_distances() -> None:
    # one degree of latitude on the mean sphere, and Milan Duomo to Rome Colosseum (~477 km)
    assert abs(haversine_m(9.19, 45.0, 9.19, 46.0) - 111_195) < 1
    assert 476_000 < haversine_m(*DUOMO, 12.4922, 41.8902) < 479_000


def test_walk_is_ordered_and_complete_like_brute_force() -> None:
    rng = random.Random(7)
    points = [*milan_points(rng, 2000), ("rome", 12.49, 41.89), ("bergamo", 9.67, 45.69)]
    grid: GridIndex[None] = GridIndex()
    for key, lon, lat in points:
        grid.put(key, lon, lat, None)
    for lon, lat in [DUOMO, (9.05, 45.40), (12.0, 42.0), (9.19 + 1e-9, 45.4642)]:
        expected = sorted((haversine_m(lon, lat, plon, plat), key) for key, plon, plat in points)
        walked = [(d, p.key) for d, p in grid.nearest(lon, lat)]
        assert [k for _, k in walked] == [k for _, k in expected]
        assert all(abs(a - b) < 1e-6 for (a, _), (b, _) in zip(walked, expected, strict=True))


def test_put_moves_and_remove_forgets() -> None:
    grid: GridIndex[str] = GridIndex()
    grid.put("a", 9.19, 45.46, "first")
    grid.put("a", 9.30, 45.50, "moved")
    grid.put("b", 9.20, 45.46, "b")
    assert len(grid) == 2
    nearest = next(grid.nearest(9.19, 45.46))[1]
    assert nearest.key == "b"
    grid.remove("b")
    grid.remove("missing")
    assert [(p.key, p.value) for _, p in grid.nearest(9.19, 45.46)] == [("a", "moved")]


def _point(offer_id: str, shop: ShopCard, code: str = "ritiro_pacchi") -> ServicePoint:
    return ServicePoint(offer_id, code, shop, WeeklyHours.of([(0, "09:00", "18:00")]))


def test_service_points_follow_their_shop() -> None:
    index = ServicePointIndex()
    near = ShopCard("near", "Near", ShopKind.KIOSK, "", 9.1901, 45.4642, True)
    far = ShopCard("far", "Far", ShopKind.KIOSK, "", 9.2100, 45.4700, True)
    index.put(_point("s1", near))
    index.put(_point("s2", near, "info_turistiche"))
    index.put(_point("s3", far))
    assert [p.offer_id for _, p in index.nearest("ritiro_pacchi", *DUOMO)] == ["s1", "s3"]
    index.update_shop(ShopCard("near", "Near, moved", ShopKind.KIOSK, "", 9.3, 45.5, False))
    ranked = [p for _, p in index.nearest("ritiro_pacchi", *DUOMO)]
    assert [p.offer_id for p in ranked] == ["s3", "s1"] and ranked[1].shop.name == "Near, moved"
    index.remove("s1")
    assert index.counts() == {"ritiro_pacchi": 1, "info_turistiche": 1} and len(index) == 2
    assert list(index.nearest("bike_sharing_info", *DUOMO)) == []


def test_ten_thousand_points_answer_in_well_under_a_millisecond_typically() -> None:
    rng = random.Random(3)
    index = ServicePointIndex()
    for key, lon, lat in milan_points(rng, 10_000):
        index.put(_point(key, ShopCard(key, key, ShopKind.KIOSK, "", lon, lat, True)))
    timings = []
    for _ in range(300):
        lon, lat = 9.08 + rng.random() * 0.18, 45.41 + rng.random() * 0.1
        started = time.perf_counter()
        found = [p for _, (_, p) in zip(range(10), index.nearest("ritiro_pacchi", lon, lat), strict=False)]
        timings.append(time.perf_counter() - started)
        assert len(found) == 10
    timings.sort()
    p50, p99 = timings[150] * 1000, timings[296] * 1000
    print(f"grid index, 10,000 points, 10 nearest: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    assert p50 < 5
