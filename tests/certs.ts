/**
 * Test certificates made with openssl: a CA, and leaf certificates for 127.0.0.1 and localhost
 * signed by it (server and client use), for internal SSL and an HTTPS hub.
 *
 * @module
 */
async function openssl(args: string[], cwd: string) {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (out.code !== 0) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** A CA and two leaf certificates (hub, user server) for 127.0.0.1. */
export async function makeCerts(dir: string) {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
  ], dir);
  for (const name of ["hub", "user"]) {
    await Deno.writeTextFile(
      `${dir}/${name}.ext`,
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    );
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    ], dir);
    await openssl([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ], dir);
  }
}

/**
 * The base64 SHA-256 of a certificate's public key (SPKI), as Chromium's
 * `--ignore-certificate-errors-spki-list` takes it: the test trusts exactly this key.
 */
export async function spkiHash(certFile: string): Promise<string> {
  const sh = await new Deno.Command("sh", {
    args: [
      "-c",
      `openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
      "sh",
      certFile,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (sh.code !== 0) throw new Error(new TextDecoder().decode(sh.stderr));
  return new TextDecoder().decode(sh.stdout).trim();
}
