// Drives Infisical's Node SDK (@infisical/sdk) for Coffer's compatibility tests. It reads one
// JSON request per line on stdin, {"op": ..., "args": {...}}, makes exactly one SDK call for
// it, and answers one JSON line on stdout: {"result": <what the SDK returned>} or
// {"error": "...", "status": <HTTP status or 0>}. It holds no logic of its own.
import { createInterface } from "node:readline";
import { InfisicalSDK } from "@infisical/sdk";

let sdk = null;

// call makes the one SDK call that op names. Ops that take a secret name as their first
// parameter take it from args.secretName; the other args are the SDK's options object.
async function call(op, args) {
  if (op === "new") {
    sdk = new InfisicalSDK({ siteUrl: args.siteUrl });
    return true;
  }
  if (sdk === null) throw new Error("driver: no client: send op new first");
  const { secretName, ...options } = args;
  switch (op) {
    case "universalAuthLogin":
      await sdk.auth().universalAuth.login(args);
      return { accessToken: sdk.auth().getAccessToken() };
    case "renew":
      await sdk.auth().universalAuth.renew();
      return { accessToken: sdk.auth().getAccessToken() };
    case "listSecrets":
      return sdk.secrets().listSecrets(args);
    case "listSecretsWithImports":
      return sdk.secrets().listSecretsWithImports(args);
    case "getSecret":
      return sdk.secrets().getSecret(args);
    case "createSecret":
      return sdk.secrets().createSecret(secretName, options);
    case "updateSecret":
      return sdk.secrets().updateSecret(secretName, options);
    case "deleteSecret":
      return sdk.secrets().deleteSecret(secretName, options);
    case "createFolder":
      return sdk.folders().create(args);
    case "listFolders":
      return sdk.folders().listFolders(args);
  }
  throw new Error(`driver: unknown op ${JSON.stringify(op)}`);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let res;
  try {
    const req = JSON.parse(line);
    res = { result: (await call(req.op, req.args ?? {})) ?? null };
  } catch (err) {
    const status = /\[StatusCode=(\d+)\]/.exec(String(err?.message))?.[1];
    res = { error: `${err?.name ?? "Error"}: ${err?.message ?? err}`, status: status ? Number(status) : 0 };
  }
  process.stdout.write(JSON.stringify(res) + "\n");
}
