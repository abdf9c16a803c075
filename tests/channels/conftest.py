from tests.vendor_fakes.fixtures import fake_smsru, fake_telegram, fake_whatsapp  # noqa: F401 - fixtures
