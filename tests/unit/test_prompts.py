"""Prompts are really generated (pyttsx3 + espeak-ng + sox), verified, and regenerated only on change."""
import subprocess
import wave

import pytest

from ivr.prompts import PromptError, PromptSpec, generate, generate_moh, verify_wav

SPECS = [PromptSpec("hello", "zh", "您好"), PromptSpec("hello", "en", "Hello there")]


def test_prompts_are_8khz_mono_and_not_silent(tmp_path):
    paths = generate(SPECS, tmp_path)
    assert set(paths) == {"zh/hello", "en/hello"}
    for path in paths.values():
        info = verify_wav(path)
        assert (info.rate, info.channels, info.sample_width) == (8000, 1, 2) and info.seconds > 0.3


def test_regenerated_only_when_text_changes(tmp_path):
    first = generate(SPECS, tmp_path)["en/hello"]
    mtime = first.stat().st_mtime_ns
    generate(SPECS, tmp_path)
    assert first.stat().st_mtime_ns == mtime
    generate([PromptSpec("hello", "en", "Hello again, a longer greeting")], tmp_path)
    assert first.stat().st_mtime_ns != mtime and verify_wav(first).seconds > 1.0


def test_a_broken_prompt_file_is_regenerated(tmp_path):
    path = generate(SPECS, tmp_path)["zh/hello"]
    path.write_bytes(b"")
    generate(SPECS, tmp_path)
    assert verify_wav(path).frames > 0


def _wav(path, rate, frames, value):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(int(value).to_bytes(2, "little", signed=True) * frames)
    return path


def test_verify_rejects_empty_wrong_rate_silent_and_short(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(PromptError, match="empty"):
        verify_wav(tmp_path / "empty.wav")
    with pytest.raises(PromptError, match="44100 Hz"):
        verify_wav(_wav(tmp_path / "cd.wav", 44100, 44100, 1000))
    with pytest.raises(PromptError, match="silent"):
        verify_wav(_wav(tmp_path / "silent.wav", 8000, 8000, 0))
    with pytest.raises(PromptError, match="only"):
        verify_wav(_wav(tmp_path / "short.wav", 8000, 400, 1000))
    (tmp_path / "junk.wav").write_bytes(b"RIFF....junk")
    with pytest.raises(PromptError, match="not a valid WAV"):
        verify_wav(tmp_path / "junk.wav")


@pytest.mark.parametrize("name", ["../etc/passwd", "Hello", "a b", ""])
def test_prompt_names_cannot_escape_the_folder(name):
    with pytest.raises(ValueError):
        PromptSpec(name, "zh", "x")


def test_music_on_hold(tmp_path):
    path = generate_moh(tmp_path)
    assert verify_wav(path).seconds >= 20
    out = subprocess.run(["soxi", "-r", str(path)], capture_output=True, text=True).stdout.strip()
    assert out == "8000"
