"""The GAN playground: a local web page to train the 1-D and 2-D toy GANs live.

python -m gan_research.playground [--port=8080] [--host=127.0.0.1] [--save_dir=runs/playground]
then open http://127.0.0.1:8080/. Choose the data (three 1-D mixtures, the 2-D ring and grid),
G's activation, D's minibatch layer, the objective, packing, unrolling, d_steps, learning rates,
steps and seed; Run trains with the trainer's own step (gan_research.sweeps) and shows the learnt
density or samples, D and the optimal D* in 1-D, the losses and the mode statistics as it trains.
Save writes a normal workdir that `python -m gan_research.main` retrains and the figures read.
"""
