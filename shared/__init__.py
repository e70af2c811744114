"""Code two or more sqldistill services use: config, store, catalogue, SQL utilities, gRPC scaffold."""
