/**
 * The engine's side of a pack's start: a real Engine gRPC service, so that the pack is given an
 * address as the engine gives it one. The 1.21 pack never calls it; what it would log is captured.
 */
import * as grpc from "@grpc/grpc-js";
import * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";

export interface EngineLogLine {
  severity: number;
  message: string;
  urn: string;
}

export class EngineServer {
  readonly logs: EngineLogLine[] = [];
  private server = new grpc.Server();
  private starting: Promise<string> | undefined;
  address = "";

  /** Starts once; later calls return the same address. */
  start(): Promise<string> {
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<string> {
    const empty = () => new emptyPb.Empty();
    this.server.addService(engineGrpc.EngineService, {
      log: (
        call: grpc.ServerUnaryCall<enginePb.LogRequest, emptyPb.Empty>,
        cb: grpc.sendUnaryData<emptyPb.Empty>,
      ) => {
        const r = call.request;
        this.logs.push({ severity: r.getSeverity(), message: r.getMessage(), urn: r.getUrn() });
        cb(null, empty());
      },
      getRootResource: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
      setRootResource: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
      startDebugging: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
      requirePulumiVersion: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
