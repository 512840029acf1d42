"""Synthetic side-lying clamshell videos with exact ground truth (``clamcoach synth``).

A parametric human body (``anny``) lies on its side on a mat on a table and does clamshells;
pyrender draws it on the CPU from front / oblique / overhead / feet cameras; PyAV writes H.264
mp4; a JSON beside each video gives, per frame, the pelvis roll (absolute, forward positive,
0 = hip line vertical; and relative to the set's start), hip and knee flexion, the opening
(rotation of the top knee about the top hip-ankle line from the closed, stacked legs), knee and
ankle gaps, 2-D joints with visibility; per rep, timing, peaks and mistake labels
(roll_back >= 10 deg from the rep's start, lift_too_high >= 60 deg, feet_apart > 0.25 shin).
Exact definitions: ``README.md`` in this folder (also embedded in every JSON as "definitions").

Modules: ``body`` (anny model, shapes, colours, clothes), ``clamshell`` (posing + ground truth),
``motion`` (tempo and mistakes), ``options`` (the ``Hand`` and ``Support`` choices), ``camera``
(placement, lens, view label), ``scene`` (room, supports, lights, renderer), ``render``
(sets -> mp4 + JSON), ``ranges`` (drawing sets from ranges), ``lesson`` (the patient lesson),
``make_sets`` (the committed data sets), ``degrade`` (ffmpeg-degraded copies for benchmarks),
``cli`` (``add_parser(subparsers)`` for the main CLI; ``python -m clamcoach.synth``).
Heavy dependencies (torch, anny, pyrender) load only when something is rendered.
"""
