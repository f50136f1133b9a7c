"""Voices: speech text in one language → audio chunks, behind the Voice protocol.

``load_voice(cfg, lang)`` picks and loads the best installed voice (Kokoro, Piper, OpenJTalk,
espeak-ng); the engines live in their own modules and sub-packages.
"""

from yomiage.tts.base import Voice
from yomiage.tts.registry import VoiceInfo, list_voices, load_voice

__all__ = ["Voice", "VoiceInfo", "list_voices", "load_voice"]
