"""Voice prompts for Asterisk, generated with pyttsx3 (espeak-ng voices) and converted by sox.

Each prompt becomes ``<out>/<language>/<name>.wav``: 8 kHz, mono, 16-bit PCM, which Asterisk's
format_wav plays without transcoding. A sidecar ``<name>.sha256`` holds a hash of the voice and
text, so a prompt is regenerated only when its text changes. pyttsx3's ``save_to_file`` has left
empty files in some runs, so every file is verified (valid, right format, not silent) and
regenerated once before giving up; as a last resort espeak-ng itself writes the file.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import math
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

VOICES = {"zh": "sit/cmn", "en": "gmw/en"}  # pyttsx3 espeak voice ids
ESPEAK_VOICES = {"zh": "cmn", "en": "en"}
NAME = re.compile(r"^[a-z0-9_]+$")
MIN_SECONDS = 0.2
SILENCE_RMS = 30  # 16-bit RMS below this is silence


class PromptError(RuntimeError):
    pass


@dataclass(frozen=True)
class PromptSpec:
    name: str
    language: str
    text: str

    def __post_init__(self):
        if not NAME.match(self.name):
            raise ValueError(f"prompt name {self.name!r} must be lower-case letters, digits and _")
        if self.language not in VOICES:
            raise ValueError(f"prompt language {self.language!r} must be one of {sorted(VOICES)}")
        if not self.text.strip():
            raise ValueError(f"prompt {self.name}/{self.language} has no text")

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.language}\0{VOICES[self.language]}\0{self.text}".encode()).hexdigest()


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    sample_width: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate




def verify_wav(path: Path) -> WavInfo:
    """Raise PromptError unless path is a non-silent 8 kHz mono 16-bit WAV of at least 0.2 s."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise PromptError(f"{path}: missing or empty")
    try:
        with wave.open(str(path), "rb") as w:
            info = WavInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
            audio = w.readframes(info.frames)
    except (wave.Error, EOFError) as exc:
        raise PromptError(f"{path}: not a valid WAV ({exc})") from None
    if (info.rate, info.channels, info.sample_width) != (8000, 1, 2):
        raise PromptError(f"{path}: {info.rate} Hz, {info.channels} channel(s), {8 * info.sample_width}-bit; "
                          "Asterisk needs 8000 Hz mono 16-bit")
    if info.seconds < MIN_SECONDS:
        raise PromptError(f"{path}: only {info.seconds:.2f} s of audio")
    samples = array("h", audio[: len(audio) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    if math.sqrt(sum(x * x for x in samples) / max(1, len(samples))) < SILENCE_RMS:
        raise PromptError(f"{path}: silent")
    return info


def _to_asterisk_wav(source: Path, target: Path) -> None:
    subprocess.run(["sox", str(source), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)],
                   check=True, capture_output=True)


def _synthesize_pyttsx3(specs: list[PromptSpec], tmp: Path) -> None:
    import pyttsx3

    engine = pyttsx3.init("espeak")
    with contextlib.redirect_stdout(io.StringIO()):  # the driver prints "Audio saved to ..." per file
        for spec in specs:  # one runAndWait per file: the espeak driver keeps one voice per run
            engine.setProperty("voice", VOICES[spec.language])
            engine.save_to_file(spec.text, str(tmp / f"{spec.language}-{spec.name}.wav"))
            engine.runAndWait()


def _synthesize_espeak(spec: PromptSpec, raw: Path) -> None:
    subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[spec.language], "-w", str(raw), spec.text],
                   check=True, capture_output=True)


def generate(specs: list[PromptSpec], out_dir: Path) -> dict[str, Path]:
    """Make every prompt that is missing, stale or broken; return "language/name" -> path."""
    out_dir = Path(out_dir)
    result: dict[str, Path] = {}
    todo: list[PromptSpec] = []
    for spec in specs:
        target = out_dir / spec.language / f"{spec.name}.wav"
        result[f"{spec.language}/{spec.name}"] = target
        stamp = target.with_suffix(".sha256")
        try:
            fresh = stamp.read_text() == spec.fingerprint
            verify_wav(target)
        except (OSError, PromptError):
            fresh = False
        if not fresh:
            todo.append(spec)
    if not todo:
        return result
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        try:
            _synthesize_pyttsx3(todo, tmp)
        except Exception as exc:  # the driver failing outright still leaves espeak-ng below
            print(f"prompts: pyttsx3 failed ({exc}); using espeak-ng directly", file=sys.stderr)
        for spec in todo:
            target = result[f"{spec.language}/{spec.name}"]
            target.parent.mkdir(parents=True, exist_ok=True)
            raw = tmp / f"{spec.language}-{spec.name}.wav"
            for attempt in ("pyttsx3", "pyttsx3 again", "espeak-ng"):
                try:
                    if attempt == "pyttsx3 again":
                        _synthesize_pyttsx3([spec], tmp)
                    elif attempt == "espeak-ng":
                        _synthesize_espeak(spec, raw)
                    _to_asterisk_wav(raw, target)
                    verify_wav(target)
                    break
                except (PromptError, subprocess.CalledProcessError, OSError, RuntimeError) as exc:
                    error = exc
            else:
                raise PromptError(f"could not generate prompt {spec.language}/{spec.name}: {error}")
            target.with_suffix(".sha256").write_text(spec.fingerprint)
    return result


def generate_moh(out_dir: Path) -> Path:
    """A calm 24 s music-on-hold loop (soft chords, fades), 8 kHz mono 16-bit."""
    out_dir = Path(out_dir)
    target = out_dir / "hold_music.wav"
    try:
        verify_wav(target)
        return target
    except PromptError:
        pass
    out_dir.mkdir(parents=True, exist_ok=True)
    if not shutil.which("sox"):
        raise PromptError("sox is not installed (apt-get install sox; scripts/setup.sh does it)")
    with tempfile.TemporaryDirectory() as tmpdir:
        parts = []
        for i, chord in enumerate([("C4", "E4", "G4"), ("A3", "C4", "E4"), ("F3", "A3", "C4"), ("G3", "B3", "D4")]):
            part = Path(tmpdir) / f"{i}.wav"
            subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(part), "synth", "6",
                            *[arg for note in chord for arg in ("pluck", note)], "fade", "0.3", "6", "1.5",
                            "vol", "0.5"], check=True, capture_output=True)
            parts.append(str(part))
        subprocess.run(["sox", *parts, str(target)], check=True, capture_output=True)
    verify_wav(target)
    return target


def main(argv: list[str]) -> None:
    from ivr.service import load_hotline, prompt_specs

    out = Path(argv[1]) if len(argv) > 1 else Path("prompts")
    for key, path in generate(prompt_specs(load_hotline()), out).items():
        print(f"{key}: {path} ({verify_wav(path).seconds:.1f} s)")
    print(f"music on hold: {generate_moh(out / 'moh')}")


if __name__ == "__main__":
    main(sys.argv)
