/**
 * Throw-away certificates for tests and the benchmark, made with openssl in a directory the caller
 * owns and removes: a CA and a server certificate it signs for 127.0.0.1, and a self-signed one.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";

export interface CertificateFiles {
  /** The CA (PEM), to trust. */
  ca: string;
  /** Key and certificate for 127.0.0.1 and localhost, signed by the CA. */
  serverKey: string;
  serverCert: string;
  /** Key and certificate for 127.0.0.1, signed by themselves. */
  selfKey: string;
  selfCert: string;
}

export function makeCertificates(dir: string): CertificateFiles {
  const f = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-subj",
    "/CN=smoke test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  openssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  );
  writeFileSync(f("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    f("server.pem"),
    "-extfile",
    f("server.ext"),
  );
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("self.key"),
    "-out",
    f("self.pem"),
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  );
  return {
    ca: f("ca.pem"),
    serverKey: f("server.key"),
    serverCert: f("server.pem"),
    selfKey: f("self.key"),
    selfCert: f("self.pem"),
  };
}
