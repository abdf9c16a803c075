"""The HTTP face: JSON and problems, staff auth and sessions, paging, limits, the API document."""
