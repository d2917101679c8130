"""Real phones: carriers' SIP trunks, the access numbers they deliver, agents' SIP phones.

The database says what exists (callcenter.models Carrier, AccessNumber, AgentPhone); this
package turns it into Asterisk configuration and keeps the running Asterisk in step:

- ``names``: what a carrier's name, host, credentials and numbers may look like (every value
  ends up in a config file, where a newline or a ";" would be one more setting);
- ``render``: the pure part, config rows in, ``pjsip_provisioned.conf`` and
  ``extensions_provisioned.conf`` text out;
- ``store``: reading and changing the rows (generated passwords);
- ``apply``: writes the files, proves them with the dialplan checker, and reloads res_pjsip and
  the dialplan through a provisioning AMI user, no restart;
- ``phones``: where each agent's calls ring (desk phone or the desktop's softphone) and what
  happens when that phone is not registered (Not ready, reason ``phone_unregistered``);
- ``service``: the supervised process (``python -m callcenter.sip``) that does both live.
"""
