"""Draw docs/camera.png: where to put the camera for clamcoach (run once, output committed)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle  # noqa: E402

fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
ax.set_xlim(-0.6, 3.2)
ax.set_ylim(-0.1, 2.1)
ax.set_aspect("equal")
ax.axis("off")
ax.add_patch(Rectangle((-0.5, 0.0), 1.0, 0.05, color="#4a7bb7"))          # mat (seen end-on)
ax.add_patch(Ellipse((0.0, 0.2), 0.32, 0.34, color="#e0a070"))           # pelvis, lying on its side
ax.text(0.0, 0.2, "you\n(lying on\nyour side)", ha="center", va="center", fontsize=7)
ax.annotate("", xy=(-0.05, 0.45), xytext=(0.05, 0.45),
            arrowprops=dict(arrowstyle="->", color="#b00020", lw=2))
ax.text(0.0, 0.52, "roll-back", ha="center", fontsize=8, color="#b00020")


def camera(x, y, label, ok, note):
    colour = "#1b7f3b" if ok else "#b00020"
    ax.add_patch(Rectangle((x - 0.09, y - 0.06), 0.18, 0.12, color=colour))
    ax.add_patch(FancyArrowPatch((x, y), (0.05, 0.22), arrowstyle="-", linestyle="--",
                                 color=colour, lw=1))
    ax.text(x + 0.14, y + 0.02, f"{'✓' if ok else '✗'} {label}", color=colour, fontsize=10,
            fontweight="bold", va="center")
    ax.text(x + 0.14, y - 0.12, note, color="#333333", fontsize=8, va="center")


camera(2.0, 0.2, "level, in front", False, "roll-back is depth motion: not judged")
camera(1.7, 1.25, "raised ~35°, in front (best)", True, "about 2 m away, looking down at you")
camera(0.05, 1.9, "overhead", True, "sees the roll-back; reps and opening less reliable")
ax.text(-0.55, 2.02, "Where to put the camera (seen from your feet)", fontsize=11, fontweight="bold")
out = Path(__file__).resolve().parents[1] / "docs" / "camera.png"
fig.savefig(out, bbox_inches="tight")
print(out)
