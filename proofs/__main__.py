from proofs.cli import run

run()
