"""Transit: GTFS feeds (:mod:`~gapmap.travel.transit.gtfs`), the profile connection scan
(:mod:`~gapmap.travel.transit.csa`), its RAPTOR oracle (:mod:`~gapmap.travel.transit.raptor`), and
door-to-door schedule times (:mod:`~gapmap.travel.transit.schedule`)."""
