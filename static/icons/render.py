"""Draws the PNG icons and favicon.ico from obrolan.svg in Debian's Chromium: python static/icons/render.py static/icons"""
import struct, sys, pathlib
from playwright.sync_api import sync_playwright
folder = pathlib.Path(sys.argv[1])
svg = (folder / "obrolan.svg").read_text()
pngs = {}
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    for size in (16, 32, 48, 180, 192, 512):
        page = b.new_page(viewport={"width": size, "height": size})
        page.set_content(f'<html><body style="margin:0;background:transparent">{svg.replace("<svg ", f"<svg width={size} height={size} ", 1)}</body></html>')
        data = page.screenshot(omit_background=True)
        pngs[size] = data
        page.close()
    b.close()
for size in (180, 192, 512):
    (folder / f"obrolan-{size}.png").write_bytes(pngs[size])
# favicon.ico: PNG images inside an ICO container (supported by every browser since Windows Vista-era)
sizes = (16, 32, 48)
header = struct.pack("<HHH", 0, 1, len(sizes))
offset = 6 + 16 * len(sizes)
entries = b""; body = b""
for s in sizes:
    data = pngs[s]
    entries += struct.pack("<BBBBHHII", s, s, 0, 0, 1, 32, len(data), offset + len(body))
    body += data
(folder / "favicon.ico").write_bytes(header + entries + body)
