from labkit.cli import run

run()
