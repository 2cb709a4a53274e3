"""A DeepPATH-style Python tiler, the peer `Jobs/python-peer-tiler` measures Tessera against.

It reads every grid position of one slide with openslide-python (no tissue mask, as DeepPATH's
0b_tileLoop_deepzoom), applies Tessera's default background rule (a pixel is glass when its BT.601
luminance 299 R + 587 G + 114 B >= 220000, i.e. >= 220; a tile with more than half its pixels glass
is dropped), encodes each kept tile as JPEG q90 4:2:0 with Pillow and appends it to an HDF5 file
with h5py (the bytes concatenated, offsets and lengths, as Tessera's store). One thread.

Prints one line: positions, tiles kept, wall seconds, CPU seconds (user + system of this process),
kept tiles per second and per CPU second. With --json, the same as a JSON object.
"""
import argparse
from io import BytesIO
import json
import os
import resource
import sys
import time

import h5py
import numpy as np
import openslide
from PIL import Image


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def target_downsample(slide, magnification, level):
    """Level-0 pixels per output pixel: from the objective power for --magnification, else the level's."""
    if level is not None:
        return float(slide.level_downsamples[level])
    power = slide.properties.get(openslide.PROPERTY_NAME_OBJECTIVE_POWER)
    if power is None:
        sys.exit(f"{slide_path}: no objective power recorded; use --level")
    return float(power) / magnification


def main():
    global slide_path
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("slide")
    p.add_argument("--out", required=True, help="HDF5 file to write (replaced)")
    p.add_argument("--tile-size", type=int, default=512)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--magnification", type=float, default=20)
    g.add_argument("--level", type=int)
    p.add_argument("--quality", type=int, default=90)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    slide_path = a.slide

    wall0, cpu0 = time.monotonic(), cpu_seconds()
    slide = openslide.OpenSlide(a.slide)
    w0, h0 = slide.dimensions
    ds = target_downsample(slide, a.magnification, a.level)
    # Read from the best level at or below the target downsample, then resize (DeepZoom's way).
    level = a.level if a.level is not None else slide.get_best_level_for_downsample(ds + 1e-6)
    level_ds = float(slide.level_downsamples[level])
    span0 = int(round(a.tile_size * ds))            # level-0 pixels per tile side
    read = int(round(a.tile_size * ds / level_ds))  # pixels of the level read per tile side
    columns, rows = w0 // span0, h0 // span0

    tmp = a.out + ".tmp"
    kept, positions = 0, 0
    with h5py.File(tmp, "w") as f:
        jpeg = f.create_dataset("tiles/jpeg", shape=(0,), maxshape=(None,), dtype="u1", chunks=(1 << 20,))
        offsets, lengths, xs, ys, bg = [], [], [], [], []
        for r in range(rows):
            for c in range(columns):
                x, y = c * span0, r * span0
                positions += 1
                tile = slide.read_region((x, y), level, (read, read)).convert("RGB")
                if read != a.tile_size:
                    tile = tile.resize((a.tile_size, a.tile_size), Image.BOX)
                px = np.asarray(tile, dtype=np.int32)
                lum = 299 * px[..., 0] + 587 * px[..., 1] + 114 * px[..., 2]
                background = float(np.count_nonzero(lum >= 220000)) / lum.size
                if background > 0.5:
                    continue
                buf = BytesIO()
                tile.save(buf, "JPEG", quality=a.quality, subsampling="4:2:0")
                data = np.frombuffer(buf.getvalue(), dtype=np.uint8)
                start = jpeg.shape[0]
                jpeg.resize((start + data.size,))
                jpeg[start:] = data
                offsets.append(start)
                lengths.append(data.size)
                xs.append(x)
                ys.append(y)
                bg.append(background)
                kept += 1
        f["tiles/offset"] = np.array(offsets, dtype=np.int64)
        f["tiles/length"] = np.array(lengths, dtype=np.int64)
        f["tiles/x"] = np.array(xs, dtype=np.int64)
        f["tiles/y"] = np.array(ys, dtype=np.int64)
        f["tiles/background"] = np.array(bg, dtype=np.float32)
    os.replace(tmp, a.out)
    wall, cpu = time.monotonic() - wall0, cpu_seconds() - cpu0
    result = {"positions": positions, "kept": kept, "wall_s": wall, "cpu_s": cpu,
              "kept_per_s": kept / wall, "kept_per_cpu_s": kept / max(cpu, 1e-9)}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"python peer: {kept} tiles kept of {positions} positions in {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"({result['kept_per_s']:.1f} tiles/s, {result['kept_per_cpu_s']:.1f} tiles per CPU second)")


if __name__ == "__main__":
    main()
