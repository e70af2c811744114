"""Generated gRPC stubs (`make protos`). Import messages as `from shared.pb import critic_pb2`."""

from shared.pb.sqldistill.v1 import (  # noqa: F401
    common_pb2,
    controller_pb2,
    controller_pb2_grpc,
    critic_pb2,
    critic_pb2_grpc,
    generation_pb2,
    generation_pb2_grpc,
    trainer_pb2,
    trainer_pb2_grpc,
)
