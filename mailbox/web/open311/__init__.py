"""Open311 GeoReport v2 at /open311/v2/: the channels as services, letters as service requests."""
