"""The four sqldistill gRPC services: generation, critic, trainer, controller."""
