"""Build a reward-model variant of a task (settings other than the defaults get their own cache
folder) and print its folder; `onesearch eval --searcher cascade+reward` reads the default only.

    .venv/bin/python configs/reward/variant.py --task homedepot cross.learning_rate=8e-5 cross.epochs=2
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.catalog import registry
from onesearch.cli.data import data_root
from onesearch.reward.build import RewardSettings, build_reward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("settings", nargs="*", help="FIELD=VALUE or cross.FIELD=VALUE (numbers)")
    args = parser.parse_args()
    settings = RewardSettings()
    for setting in args.settings:
        key, value = setting.split("=", 1)
        number = float(value) if "." in value or "e" in value else int(value)
        if key.startswith("cross."):
            settings = replace(settings, cross=replace(settings.cross, **{key[6:]: number}))
        else:
            settings = replace(settings, **{key: bool(number) if key == "behaviour" else number})
    dataset = registry.load(args.task, data_root(None))
    directory = cascade_directory(args.cache, args.task, dataset.training_fingerprint())
    reward = build_reward(dataset, build_cascade(dataset, directory, BuildSettings()), directory, settings)
    print(reward.directory)


if __name__ == "__main__":
    main()
