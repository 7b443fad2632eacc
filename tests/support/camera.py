"""A fake camera for Chromium: a Y4M video (YUV4MPEG2, 4:2:0) whose frames show a QR code.

Chromium plays the file as its camera with ``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=<file>``, so a page's getUserMedia sees the code as a phone
held up to a ticket would. The frames are written here from the code's modules (segno), no
image library needed.
"""

from __future__ import annotations

from pathlib import Path

import segno

WIDTH, HEIGHT = 640, 480
WHITE, BLACK = 235, 16  # video (studio) range luma


def qr_luma(text: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """One grey frame: the code of ``text`` centred on white, as a phone camera sees a screen."""
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    scale = min(width, height) * 3 // 4 // len(rows)
    side = len(rows) * scale
    left, top = (width - side) // 2, (height - side) // 2
    frame = bytearray([WHITE]) * (width * height)
    for y, row in enumerate(rows):
        line = bytearray()
        for dark in row:
            line += bytes([BLACK if dark else WHITE]) * scale
        for dy in range(scale):
            start = (top + y * scale + dy) * width + left
            frame[start : start + side] = line
    return bytes(frame)


def write_y4m(path: Path, text: str, frames: int = 8) -> Path:
    """A short looping video of the code (Chromium replays the file from the start)."""
    luma = qr_luma(text)
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def camera_args(video: Path) -> list[str]:
    """Chromium's switches for a camera that shows ``video`` and needs no permission prompt."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
