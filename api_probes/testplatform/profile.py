"""The probe profile of the test platform (what a tester would write for it)."""

from __future__ import annotations

from pathlib import Path

from .model import NAME


def write_profile(tmp: Path, app, base_url: str, http_port: int, tls: dict[str, Path], *, signing: bool = True,
                  allow_unsafe: bool = False, max_requests: int = 800) -> Path:
    st = app.state.platform
    key_line = ""
    if signing:  # a staging environment where the tester holds a signing key
        (tmp / "signing.pem").write_bytes(app.state.private_pem)
        key_line = f'test_signing_key = "{(tmp / "signing.pem").resolve()}"'
    idents = []
    for uid, user, pw, role in (("u-1001", "alice", "alice-pass-1", "owner"), ("u-1002", "bob", "bob-pass-2", "owner"),
                                ("u-9001", "admin", "admin-pass-9", "admin")):
        vins = [v for v, x in st.vehicles.items() if x["owner"] == uid]
        trips = [t for t, x in st.trips.items() if x["owner"] == uid]
        idents.append(f'''
[[identity]]
name = "{user}"
role = "{role}"
username = "{user}"
password = "{pw}"
owns = {{vin = {vins!r}, trip_id = {trips!r}, user_id = ["{uid}"]}}
'''.replace("'", '"'))
    endpoints = [
        ('GET', '/api/v1/users/me', 'expects = ["identifier", "contact"]'),
        ('GET', '/api/v1/vehicles', 'expects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/vehicles/{vin}', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/vehicles/{vin}/location', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier", "location"]'),
        ('GET', '/api/v1/vehicles/{vin}/trips', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/trips/{trip_id}', 'objects = {trip_id = "trip_id"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/admin/users', 'roles = ["admin"]\nexpects = ["identifier", "contact"]'),
        ('PATCH', '/api/v1/users/me',
         'mass_assignment = {read = "/api/v1/users/me", fields = {role = "admin"}, revert = {role = "owner"}}'),
        ('POST', '/api/v1/vehicles/{vin}/commands/unlock', 'objects = {vin = "vin"}'),
        ('GET', '/api/v1/trip-details?trip_id={trip_id}',
         'objects = {trip_id = "trip_id"}\nexpects = ["vehicle_identifier", "location"]'),
        ('GET', '/api/v1/account', 'expects = ["identifier", "contact"]'),
        ('POST', '/api/v1/register', 'auth = false\nmass_assignment = {register = true, fields = {role = "admin"}, '
         'body = {username = "probe-{rand}", password = "Probe-{rand}-pw"}, read = "/api/v1/account", '
         'pointer = "/data/user"}'),
        ('POST', '/api/v1/notes', ''),
        ('GET', '/api/v1/notes/{note_id}', 'objects = {note_id = "note"}'),
        ('PATCH', '/api/v1/notes/{note_id}', 'objects = {note_id = "note"}\ncross_user = {create = {path = '
         '"/api/v1/notes", body = {text = "probe note"}}, body = {text = "changed by another user"}, '
         'read = "/api/v1/notes/{note_id}"}'),
        ('DELETE', '/api/v1/notes/{note_id}', 'objects = {note_id = "note"}\ncross_user = {create = {path = '
         '"/api/v1/notes", body = {text = "probe note"}}, read = "/api/v1/notes/{note_id}"}'),
        ('PATCH', '/api/v1/users/{user_id}', 'objects = {user_id = "user_id"}\n'
         'account_change = {field = "email", read = "/api/v1/users/me"}'),
        ('POST', '/api/v1/admin/notices', 'roles = ["admin"]'),
        ('GET', '/api/v1/notices/{notice_id}', 'objects = {notice_id = "notice"}'),
        ('DELETE', '/api/v1/admin/notices/{notice_id}', 'roles = ["admin"]\nobjects = {notice_id = "notice"}\n'
         'cross_user = {create = {path = "/api/v1/admin/notices", body = {text = "probe notice"}}, '
         'read = "/api/v1/notices/{notice_id}"}'),
    ]
    eps = "".join(f'''
[[endpoint]]
method = "{m}"
path = "{p}"
safe = {"false" if "commands" in p else "true"}
{extra}
''' for m, p, extra in endpoints)
    eps += "".join(f'\n[[endpoint]]\nmethod = "GET"\npath = "/api/v1/info/{n}"\nsafe = true\n' for n in range(1, 11))
    text = f'''
[target]
name = "{NAME}"
base_url = "{base_url}"
allow_hosts = ["127.0.0.1"]
ca_cert = "{Path(tls["ca"]).resolve()}"
http_port = {http_port}

[jwt]
jwks_url = "/.well-known/jwks.json"
endpoint = "/api/v1/users/me"
{key_line}

[budget]
max_requests = {max_requests}
rate_per_s = 40
time_s = 60
burst = 80

[safety]
allow_unsafe = {"true" if allow_unsafe else "false"}

[login]
path = "/api/v1/login"
method = "POST"
body = {{username = "{{username}}", password = "{{password}}"}}
token_field = "access_token"
{"".join(idents)}
{eps}
'''
    path = tmp / "target.toml"
    path.write_text(text)
    return path
