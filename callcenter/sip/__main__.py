"""Run the SIP service: python -m callcenter.sip"""
from callcenter.sip.service import main

main()
