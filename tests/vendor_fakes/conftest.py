"""The fake vendors' fixtures, for the tests of the fakes themselves.

(Imported by name: `pytest_plugins` is only honoured in the top-level conftest.)
"""

from tests.vendor_fakes.fixtures import fake_mango, fake_smsru, fake_telegram, fake_whatsapp, fake_zadarma

__all__ = ["fake_mango", "fake_smsru", "fake_telegram", "fake_whatsapp", "fake_zadarma"]
