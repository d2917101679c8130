"""Call recordings (issue 11): where the files are and what they hold (files), their rows in the
database (store: registered, checked, purged, held), how long they are kept (retention), who may
hear them (access), the scheduled pass (job) and `callcenter recordings ...` (cli). Playback and
search are the desktop's (agent_desktop/recordings.py, recording_search.py)."""
