from specmc.proofs.cli import run

run()
