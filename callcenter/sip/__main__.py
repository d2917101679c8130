"""Run the SIP service: python -m callcenter.sip"""
from callcenter.runtime.files import owner_only

owner_only()  # before any file is created

from callcenter.sip.service import main  # noqa: E402

main()
