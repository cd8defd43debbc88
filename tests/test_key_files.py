"""Development key files: generated once, atomically, mode 0600; an existing file is kept as it is."""

import stat

from idp.key_files import ensure_key_file
from idp.key_storage import ensure_kek_file, parse_kek


def test_ensure_key_file_keeps_an_existing_key(tmp_path):
    path = tmp_path / "k.pem"
    path.write_text("existing")
    assert ensure_key_file(path, generate=lambda: "new") == "existing"


def test_ensure_key_file_writes_a_missing_key_once_readable_only_by_its_owner(tmp_path):
    calls = []

    def generate() -> str:
        calls.append(1)
        return f"key {len(calls)}"

    path = tmp_path / "nested" / "k.pem"
    assert ensure_key_file(path, generate=generate) == "key 1"
    assert ensure_key_file(path, generate=generate) == "key 1"
    assert calls == [1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["k.pem"]  # no temporary file left behind


def test_ensure_kek_file_generates_a_usable_kek_and_reads_it_back_trimmed(tmp_path):
    path = tmp_path / "kek"
    kek = ensure_kek_file(path)
    assert len(parse_kek(kek)) == 32
    path.write_text(kek + "\n")
    assert ensure_kek_file(path) == kek
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
