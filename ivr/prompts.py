"""Voice prompts for Asterisk, spoken by pyttsx3 (espeak-ng voices) and converted by sox.

Each prompt becomes ``<out>/<language>/<name>.wav``: 8 kHz, mono, 16-bit signed PCM, which
Asterisk's format_wav plays without transcoding. A sidecar ``<name>.sha256`` holds a hash of the
language, voice and text, so a prompt is made again only when one of them changes (or its file is
missing or broken).

What pyttsx3 2.99's espeak driver does, measured here (and why the code looks as it does):

- ``save_to_file`` only records the text and file name; ``runAndWait`` then speaks only the *last*
  one queued. Queueing every prompt and calling ``runAndWait`` once writes one file, so each
  prompt gets its own ``runAndWait`` on the one engine (about 10 ms each).
- espeak's synthesis callback is process-wide: once a second ``Engine`` exists, ``runAndWait`` on
  the first never sees the end of its utterance and loops forever. An unknown voice is reported
  only through the ``error`` callback, and the text is spoken in the previous voice.
- The driver prints "Audio saved to ..." on stdout for each file.

So pyttsx3 runs in a child Python process (``_pyttsx3_worker``) with a time limit, which fails on
any ``error`` callback. Every file is then checked with :func:`verify_wav`; a prompt whose file
is missing, empty or silent is tried once more with ``espeak-ng -v <voice> -w`` called directly
(same voice, same 200 wpm rate, so it sounds the same), and a :class:`PromptError` names it if that
fails too.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

VOICES = {"zh": "sit/cmn", "en": "gmw/en"}  # pyttsx3 espeak voice ids (espeak-ng --voices, "File")
RATE_WPM = 200  # the pyttsx3 espeak driver's rate; the espeak-ng fallback uses it too
NAME = re.compile(r"[a-z0-9_]+")
RATE, CHANNELS, SAMPLE_WIDTH = 8000, 1, 2
MIN_SECONDS = 0.2
SILENCE_PEAK = 100  # 16-bit peak at or below this (about -50 dBFS) counts as silence
MOH_CHORDS = [("C4", "E4", "G4", "C5"), ("A3", "C4", "E4", "A4"), ("F3", "A3", "C4", "F4"), ("G3", "B3", "D4", "G4")]
MOH_CHORD_SECONDS = 5

log = logging.getLogger("ivr.prompts")


class PromptError(RuntimeError):
    pass


@dataclass(frozen=True)
class PromptSpec:
    name: str
    language: str  # "zh" or "en"
    text: str

    def __post_init__(self):
        if not NAME.fullmatch(self.name):
            raise ValueError(f"prompt name {self.name!r} must be lower-case letters, digits and _")
        if self.language not in VOICES:
            raise ValueError(f"prompt language {self.language!r} must be one of {sorted(VOICES)}")
        if not self.text.strip():
            raise ValueError(f"prompt {self.key} has no text")

    @property
    def key(self) -> str:
        return f"{self.language}/{self.name}"

    @property
    def voice(self) -> str:
        return VOICES[self.language]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.language}\0{self.voice}\0{self.text}".encode()).hexdigest()


# The foundation's prompts; the whole menu is in ivr/flows/hotline.toml, whose texts these match.
HOTLINE_PROMPTS = [
    PromptSpec("welcome", "zh", "您好，欢迎致电客户服务热线。"),
    PromptSpec("welcome", "en", "Welcome to the customer service hotline."),
    PromptSpec("agent_transfer", "zh", "正在为您转接人工服务，请稍候。"),
    PromptSpec("agent_transfer", "en", "Connecting you to an agent, please hold."),
]


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    sample_width: int
    frames: int
    peak: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def verify_wav(path: Path) -> WavInfo:
    """Raise PromptError unless path is a non-silent 8 kHz mono 16-bit WAV of at least 0.2 s."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise PromptError(f"{path}: missing or empty")
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            audio = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise PromptError(f"{path}: not a valid WAV ({exc})") from None
    if (rate, channels, width) != (RATE, CHANNELS, SAMPLE_WIDTH):
        raise PromptError(f"{path}: {rate} Hz, {channels} channel(s), {8 * width}-bit; "
                          f"Asterisk needs {RATE} Hz mono 16-bit")
    samples = array("h", audio[: len(audio) // 2 * 2])  # the samples really there, whatever the header says
    if len(samples) / rate < MIN_SECONDS:
        raise PromptError(f"{path}: only {len(samples) / rate:.2f} s of audio")
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    peak = max(max(samples), -min(samples))
    if peak <= SILENCE_PEAK:
        raise PromptError(f"{path}: silent (peak {peak})")
    return WavInfo(rate, channels, width, len(samples), peak)


def generate(specs: list[PromptSpec], out_dir: Path) -> dict[str, Path]:
    """Make every prompt that is missing, broken or changed; return "language/name" -> path."""
    out_dir = Path(out_dir)
    targets: dict[str, Path] = {}
    texts: dict[str, str] = {}
    for spec in specs:
        if texts.setdefault(spec.key, spec.text) != spec.text:
            raise ValueError(f"prompt {spec.key} is given two different texts")
        targets[spec.key] = out_dir / spec.language / f"{spec.name}.wav"
    todo = {spec.key: spec for spec in specs if _stale(spec, targets[spec.key])}
    if not todo:
        return targets
    with tempfile.TemporaryDirectory(prefix="prompts-") as tmpdir:
        raw = {key: Path(tmpdir) / f"{key.replace('/', '-')}.wav" for key in todo}
        try:
            _pyttsx3([(spec.voice, spec.text, raw[key]) for key, spec in todo.items()])
            batch_error = ""
        except PromptError as exc:  # the files it did write are still used; the rest go to espeak-ng
            batch_error = f" ({exc})"
        for key, spec in todo.items():
            target = targets[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                _install(raw[key], target)
            except PromptError as exc:
                log.warning("prompt %s: %s%s; trying espeak-ng directly", key, exc, batch_error)
                try:
                    _espeak_ng(spec, raw[key])
                    _install(raw[key], target)
                except PromptError as again:
                    raise PromptError(f"could not make prompt {key}: pyttsx3: {exc}{batch_error}; "
                                      f"espeak-ng: {again}") from None
            target.with_suffix(".sha256").write_text(spec.fingerprint + "\n")
    return targets


def _stale(spec: PromptSpec, target: Path) -> bool:
    try:
        if target.with_suffix(".sha256").read_text().strip() != spec.fingerprint:
            return True
        verify_wav(target)
    except (OSError, PromptError):
        return True
    return False


def _install(raw: Path, target: Path) -> None:
    """Convert raw speech to Asterisk's format beside target, check it, then move it into place."""
    if not raw.is_file() or raw.stat().st_size == 0:
        raise PromptError(f"{raw.name}: no speech was written")
    new = target.with_name(f".{target.stem}.new.wav")
    try:
        _sox([str(raw), "-r", str(RATE), "-c", str(CHANNELS), "-b", "16", "-e", "signed-integer", str(new)])
        verify_wav(new)
        os.replace(new, target)
    finally:
        new.unlink(missing_ok=True)


def _sox(args: list[str]) -> None:
    if not shutil.which("sox"):
        raise PromptError("sox is not installed (apt-get install sox; scripts/setup.sh does it)")
    done = subprocess.run(["sox", *args], capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise PromptError(f"sox {' '.join(args)} failed: {done.stderr.strip()[-500:]}")


def _pyttsx3(jobs: list[tuple[str, str, Path]]) -> None:
    """Speak each (voice, text, path) into path (22.05 kHz WAV) with pyttsx3, in a child process."""
    payload = json.dumps([[voice, text, str(path)] for voice, text, path in jobs])
    package_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-c", "from ivr.prompts import _pyttsx3_worker; _pyttsx3_worker()"],
                              input=payload, capture_output=True, text=True, env=env, timeout=30 + len(jobs))
    except subprocess.TimeoutExpired:
        raise PromptError(f"pyttsx3 did not finish {len(jobs)} prompt(s) in {30 + len(jobs)} s") from None
    if done.returncode:
        raise PromptError(f"pyttsx3 failed: {done.stderr.strip()[-500:]}")


def _pyttsx3_worker() -> None:
    """Child process: one espeak engine, one runAndWait per file (it speaks only the last queued)."""
    import pyttsx3

    engine = pyttsx3.init("espeak")
    errors: list[Exception] = []
    engine.connect("error", lambda name, exception: errors.append(exception))
    for voice, text, path in json.load(sys.stdin):
        engine.setProperty("voice", voice)
        engine.save_to_file(text, path)
        engine.runAndWait()
        if errors:  # e.g. an unknown voice: the file was spoken in another one, so drop it
            Path(path).unlink(missing_ok=True)
            raise SystemExit(f"{path}: {errors[0]}")


def _espeak_ng(spec: PromptSpec, raw: Path) -> None:
    """The second attempt: espeak-ng writes the speech itself, with pyttsx3's voice and rate."""
    raw.unlink(missing_ok=True)
    try:
        done = subprocess.run(["espeak-ng", "-v", spec.voice.split("/")[-1], "-s", str(RATE_WPM), "-w", str(raw),
                               spec.text], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise PromptError("espeak-ng is not installed (apt-get install espeak-ng)") from None
    if done.returncode:
        raise PromptError(f"espeak-ng failed: {done.stderr.strip()[-500:]}")


def generate_moh(out_dir: Path) -> Path:
    """A calm 20 s music-on-hold loop: four soft chords (I-vi-IV-V) with fades, 8 kHz mono 16-bit."""
    out_dir = Path(out_dir)
    target = out_dir / "hold_music.wav"
    try:
        verify_wav(target)
        return target
    except PromptError:
        pass
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds = MOH_CHORD_SECONDS
    with tempfile.TemporaryDirectory(prefix="moh-") as tmpdir:
        parts = []
        for i, (*pad, top) in enumerate(MOH_CHORDS):  # sustained sine chord, a plucked note on top
            part = str(Path(tmpdir) / f"{i}.wav")
            _sox(["-n", "-r", str(RATE), "-c", "1", "-b", "16", part, "synth", str(seconds),
                  *[arg for note in pad for arg in ("sine", note)], "pluck", top,
                  "fade", "q", "0.6", str(seconds), "1.2"])
            parts.append(part)
        new = target.with_name(f".{target.stem}.new.wav")
        try:
            _sox([*parts, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(new),
                  "reverb", "40", "fade", "q", "0.5", str(seconds * len(parts)), "1.5", "gain", "-n", "-9"])
            verify_wav(new)
            os.replace(new, target)
        finally:
            new.unlink(missing_ok=True)
    return target


def main(argv: list[str] | None = None) -> None:
    """python -m ivr.prompts [OUT_DIR]: every prompt of the hotline flow, and music on hold."""
    from ivr.service import load_hotline, prompt_specs

    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path("prompts")
    for key, path in generate(prompt_specs(load_hotline()), out).items():
        print(f"{key}: {path} ({verify_wav(path).seconds:.1f} s)")
    print(f"music on hold: {generate_moh(out / 'moh')}")


if __name__ == "__main__":
    main()
