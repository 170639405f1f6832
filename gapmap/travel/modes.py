"""The travel-mode registry: one entry says what a mode needs and how it is computed.

Adding a mode means adding one :class:`TravelMode` to :data:`MODES` (and its tests): the
settings (default speed, ``--mode`` choices), the road-network readers (OSMnx network type,
pyrosm type, highways excluded from OSM XML) and the dispatch in
:func:`gapmap.travel.travel_times` all read it from here.

Default speeds (overridable with ``--speed MODE=KMH`` or ``[speeds_kmh]`` in the config):

- ``drive`` 60 km/h: a door-to-door average for rural Southwestern Ontario (80 km/h
  concession roads, slower in towns), used by the straight-line approximation. On a road
  network drive speeds come from OSM ``maxspeed`` tags, else the road-class table
  (:data:`gapmap.travel.road.network.DRIVE_SPEEDS_KMH`).
- ``bike`` 15 km/h and ``walk`` 4.8 km/h: used by the approximation and on every edge of a
  bike or walking network; the walking speed also times the off-road leg to and from the
  nearest road and the walking legs of transit trips.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TravelMode:
    """One way of travelling.

    Attributes
    ----------
    name : str
        ``--mode`` value.
    kind : {"road", "transit"}
        ``road``: the straight-line approximation, or a road network of :attr:`osm_network`.
        ``transit``: a GTFS schedule, walking legs at the ``walk`` speed.
    default_speed_kmh : float or None
        Default of ``speeds_kmh[name]``; None when the mode has no speed of its own (transit).
    constant_network_speed : bool
        True: every edge of this mode's road network is travelled at the mode's speed
        setting. False: edge speeds come from the network's own data (tags, road class).
    one_way : bool
        Whether one-way streets bind this mode.
    osm_network : str or None
        OSMnx ``network_type`` for downloads; None when no road network applies.
    pyrosm_network : str or None
        pyrosm ``network_type`` for ``.osm.pbf`` files.
    osm_excluded_highways : frozenset of str
        OSM ``highway`` values dropped from ``.osm`` XML input (OSMnx's own network filters).
    needs : tuple of str
        What a run in this mode needs, in words, for messages and ``gapmap regions``.
    """

    name: str
    kind: str
    default_speed_kmh: float | None
    constant_network_speed: bool
    one_way: bool
    osm_network: str | None
    pyrosm_network: str | None
    osm_excluded_highways: frozenset[str]
    needs: tuple[str, ...]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MODES: dict[str, TravelMode] = {
    m.name: m
    for m in (
        TravelMode(
            "drive", "road", 60.0, constant_network_speed=False, one_way=True, osm_network="drive",
            pyrosm_network="driving",
            osm_excluded_highways=_words(
                "abandoned bridleway bus_guideway construction corridor cycleway elevator escalator footway no path "
                "pedestrian planned platform proposed raceway razed rest_area service services steps track"),
            needs=("a drive speed (straight line) or a road network",),
        ),
        TravelMode(
            "bike", "road", 15.0, constant_network_speed=True, one_way=True, osm_network="bike",
            pyrosm_network="cycling",
            osm_excluded_highways=_words(
                "abandoned bus_guideway construction corridor elevator escalator footway motorway motorway_link no "
                "planned platform proposed raceway razed rest_area services steps"),
            needs=("a bike speed",),
        ),
        TravelMode(
            "walk", "road", 4.8, constant_network_speed=True, one_way=False, osm_network="walk",
            pyrosm_network="walking",
            osm_excluded_highways=_words(
                "abandoned bus_guideway construction cycleway motorway motorway_link no planned platform proposed "
                "raceway razed rest_area services"),
            needs=("a walk speed",),
        ),
        TravelMode(
            "transit", "transit", None, constant_network_speed=False, one_way=False, osm_network=None,
            pyrosm_network=None, osm_excluded_highways=frozenset(),
            needs=("a GTFS feed with stop_times (the region's, or --gtfs)", "a walk speed"),
        ),
    )
}

#: Modes a road network can be built for.
ROAD_MODES: tuple[str, ...] = tuple(name for name, m in MODES.items() if m.osm_network is not None)


def default_speeds() -> dict[str, float]:
    """``{mode: km/h}`` for every mode with a speed of its own."""
    return {name: m.default_speed_kmh for name, m in MODES.items() if m.default_speed_kmh is not None}


def get(name: str) -> TravelMode:
    """The registry entry of ``name``; KeyError for unknown modes (callers validate settings first)."""
    return MODES[name]
