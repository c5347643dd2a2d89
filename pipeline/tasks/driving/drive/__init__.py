"""`pipeline drive`: a Socket.IO server that drives the Udacity simulator with a registered
steering model (the textbook's `drive.py`), and can record what it drove as a new recording.

Parts, one job each: `steering` loads the model as one compiled call per frame, `control`
keeps the speed (the book's PI controller), `driver` turns one telemetry event into one
answer, `record` writes frames and angles as `driving_log.csv` + `IMG/`, `server` speaks the
simulator's old Socket.IO protocol, `command` is the CLI command, `bench` times it.
"""
