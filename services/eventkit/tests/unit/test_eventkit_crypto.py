"""AES-GCM keyring: round trip, rotation, and binding to the row and field."""

import pytest

from eventkit.crypto import DecryptionError, Keyring, generate_keyring_entry


def test_a_value_round_trips_and_is_not_readable_at_rest() -> None:
    ring = Keyring(generate_keyring_entry("k1"))
    sealed = ring.encrypt("山田 花子 090-1111-2222", context="case-1/contact")
    assert "山田" not in sealed and "090" not in sealed
    assert ring.decrypt(sealed, context="case-1/contact") == "山田 花子 090-1111-2222"


def test_a_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    ring = Keyring(generate_keyring_entry())
    sealed = ring.encrypt("secret", context="case-1/summary")
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, context="case-2/summary")


def test_after_rotation_new_values_use_the_new_key_and_old_ones_still_open() -> None:
    old = generate_keyring_entry("k1")
    sealed_before = Keyring(old).encrypt("before", context="c")
    rotated = Keyring(f"{generate_keyring_entry('k2')},{old}")
    assert Keyring.key_id_of(rotated.encrypt("after", context="c")) == "k2"
    assert rotated.decrypt(sealed_before, context="c") == "before"


def test_a_value_whose_key_left_the_ring_is_refused_clearly() -> None:
    sealed = Keyring(generate_keyring_entry("k1")).encrypt("x", context="c")
    with pytest.raises(DecryptionError, match="k1"):
        Keyring(generate_keyring_entry("k2")).decrypt(sealed, context="c")


@pytest.mark.parametrize("spec", ["", "k1", "k1:c2hvcnQ=", "k-1:" + "A" * 43])
def test_a_bad_keyring_is_refused_at_start_up(spec: str) -> None:
    with pytest.raises(ValueError):
        Keyring(spec)
