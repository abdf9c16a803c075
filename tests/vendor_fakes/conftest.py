"""The fake vendors' fixtures, for the tests of the fakes themselves."""

pytest_plugins = ["tests.vendor_fakes.fixtures"]
