/**
 * `hubify doctor`: checks the set-up and prints one line per check with a fix hint.
 *
 * @module
 */
import type { Config } from "../config/merge.ts";
import { HubEnvError, hubListenEnv, parseHubEnv } from "../hub/env.ts";
import { probe } from "../supervisor/readiness.ts";
import { exposedListeners, readSocketTables } from "../supervisor/exposure.ts";
import { findOnPath } from "../supervisor/shim.ts";
import { presetByName } from "../config/presets.ts";
import { dropMethod, rootPlan } from "../launcher/launcher.ts";
import type { LaunchPlan } from "../launcher/plan.ts";

/** One check's outcome. */
export interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

/** Options for {@link doctor}. */
export interface DoctorOptions {
  config: Config;
  json: boolean;
  print: (s: string) => void;
  /** Was the user name set explicitly? (As for the run: the default follows /etc/passwd.) */
  userExplicit?: boolean;
}

async function onPath(cmd: string): Promise<string | undefined> {
  if (cmd.includes("/")) {
    try {
      const st = await Deno.stat(cmd);
      return st.isFile && (st.mode ?? 0o111) & 0o111 ? cmd : undefined;
    } catch {
      return undefined;
    }
  }
  // As the run looks it up (src/supervisor/shim.ts).
  return findOnPath(cmd, Deno.env.get("PATH"));
}

function portFree(host: string, port: number): boolean {
  try {
    Deno.listen({ hostname: host, port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the checks; resolves 0 when none failed, else 1.
 *
 * @example
 * ```ts
 * await doctor({ config, json: false, print: console.log });
 * ```
 */
export async function doctor(opts: DoctorOptions): Promise<number> {
  const { config } = opts;
  const checks: Check[] = [];
  checks.push({ name: "mode", status: "ok", detail: `${config.mode} (${config.modeReason})` });
  const uid = Deno.uid();
  // Started as root, what the root stage itself would do: its own plan, not a guess.
  const plan = uid === 0 ? rootPlan(config, opts.userExplicit ?? false) : undefined;
  checks.push(
    !plan
      ? { name: "user", status: "ok", detail: `uid ${uid}: no privilege drop (not root)` }
      : plan.drop
      ? {
        name: "user",
        status: "ok",
        detail: dropMethod() === "exec"
          ? `root: will become ${plan.user} (${plan.uid}:${plan.gid}) in place ` +
            "(initgroups, setgid, setuid, execve): no root process stays"
          : `root: will start the server as ${plan.user} (${plan.uid}:${plan.gid}) under a root ` +
            "parent (glibc is not reachable through FFI: no supplementary groups)",
      }
      : {
        name: "user",
        status: "warn",
        detail: "target uid is 0: the service runs as root; nothing is chowned",
      },
  );
  checks.push(
    config.port === 0 || portFree(config.ip, config.port)
      ? { name: "listen port", status: "ok", detail: `${config.ip}:${config.port} is free` }
      : {
        name: "listen port",
        status: "fail",
        detail: `${config.ip}:${config.port} is in use`,
        fix: "stop what uses it, or choose another --port",
      },
  );
  checks.push(await homeCheck(config, uid ?? -1, plan));
  for (const s of config.services) {
    if (!s.command) {
      const where = s.socket ?? `${s.host}:${s.port}`;
      const ok = await probe(
        s.socket ? { socket: s.socket } : { host: s.host, port: s.port },
        s.readyPath,
      );
      checks.push(
        ok
          ? {
            name: `service ${s.name}`,
            status: "ok",
            detail: `external service answers at ${where}`,
          }
          : {
            name: `service ${s.name}`,
            status: "fail",
            detail: `nothing answers at ${where}`,
            fix: "start the service first, or check --service-port/--service-socket",
          },
      );
      continue;
    }
    const found = await onPath(s.command[0]);
    const preset = s.preset ? presetByName(s.preset) : undefined;
    checks.push(
      found ? { name: `service ${s.name} command`, status: "ok", detail: found } : {
        name: `service ${s.name} command`,
        status: "fail",
        detail: `${s.command[0]} not found on PATH`,
        fix: preset
          ? `install it (preset ${preset.name}): ${preset.needs.install}`
          : "install it in the image or give its absolute path",
      },
    );
    if (preset?.needsRoot && (!plan || plan.drop)) {
      checks.push({
        name: `service ${s.name} user`,
        status: "warn",
        detail: `it will not run as root: ${preset.needsRoot}`,
        fix: "start hubify as root with --uid 0 (hubify's login still guards it)",
      });
    }
    if (s.files) {
      const dir = await Deno.stat(s.files).then((st) => st.isDirectory, () => false);
      checks.push(
        dir ? { name: `service ${s.name} files`, status: "ok", detail: s.files } : {
          name: `service ${s.name} files`,
          status: "fail",
          detail: `${s.files} is not a directory`,
          fix: preset
            ? `install it (preset ${preset.name}): ${preset.needs.install}`
            : "check --files",
        },
      );
    }
    if (!s.socket && s.port !== 0 && !portFree(s.host, s.port)) {
      checks.push({
        name: `service ${s.name} port`,
        status: "fail",
        detail: `${s.host}:${s.port} is already in use`,
        fix: "use --service-port 0 to pick a free port",
      });
    }
  }
  if (config.mode === "jupyterhub") {
    // hubify is the authentication in front of the services: one reachable past it is open.
    const tables = readSocketTables();
    for (const s of config.services) {
      if (s.socket || s.port === 0) continue;
      const exposed = exposedListeners(...tables, s.port);
      if (!exposed.length) continue;
      checks.push({
        name: `service ${s.name} exposure`,
        status: "warn",
        detail: `listens on ${exposed.join(", ")}: reachable without hubify's authentication`,
        fix: "bind it to 127.0.0.1 ({host} in its command) or a unix socket (--service-socket)",
      });
    }
  }
  if (config.services.length === 0) {
    checks.push({
      name: "service",
      status: "fail",
      detail: "no service configured",
      fix: Deno.pid === 1
        ? "in a container, `doctor` replaced the image's CMD (the service command): repeat it " +
          "after -- (docker run IMAGE doctor -- my-server --port {port}), or set HUBIFY_COMMAND"
        : "give a command after --, HUBIFY_COMMAND, or services in --config",
    });
  }
  if (config.mode === "jupyterhub") checks.push(...(await hubChecks(config)));
  if (opts.json) {
    opts.print(JSON.stringify({ checks }, null, 2) + "\n");
  } else {
    for (const c of checks) {
      opts.print(
        `${c.status.padEnd(4)} ${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ""}\n`,
      );
    }
  }
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

/** True when `basePath` (with its slash) is the hub's `prefix` (with or without one). */
function samePrefix(basePath: string, prefix: string): boolean {
  return basePath === (prefix.endsWith("/") ? prefix : prefix + "/");
}

/** JupyterHub mode: env complete, prefix consistent, hub API reachable, versions and clocks agree. */
async function hubChecks(config: Config): Promise<Check[]> {
  const out: Check[] = [];
  let hub;
  try {
    hub = parseHubEnv(Deno.env.toObject(), { basePath: config.basePath });
  } catch (e) {
    if (!(e instanceof HubEnvError)) throw e;
    return [{
      name: "hub env",
      status: "fail",
      detail: e.message,
      fix: "start hubify from a JupyterHub spawner",
    }];
  }
  out.push({
    name: "hub env",
    status: "ok",
    detail: `user ${hub.user}, server "${hub.serverName}", client ${hub.clientId}`,
  });
  // The configuration took the hub's prefix unless --base-path overrode it.
  const hubPrefix = hubListenEnv(Deno.env.toObject()).prefix;
  out.push(
    hubPrefix === undefined || samePrefix(config.basePath, hubPrefix)
      ? { name: "prefix", status: "ok", detail: config.basePath }
      : {
        name: "prefix",
        status: "warn",
        detail:
          `--base-path ${config.basePath} differs from JUPYTERHUB_SERVICE_PREFIX ${hubPrefix}`,
        fix: "drop --base-path in JupyterHub mode",
      },
  );
  try {
    const t0 = Date.now();
    const client = hub.apiSocket
      ? Deno.createHttpClient({ proxy: { transport: "unix", path: hub.apiSocket } })
      : undefined;
    const r = await fetch(hub.apiUrl, {
      redirect: "manual",
      signal: AbortSignal.timeout(5000),
      client,
    }).finally(() => client?.close());
    await r.body?.cancel();
    const version = r.headers.get("x-jupyterhub-version") ?? "unknown";
    out.push({
      name: "hub API",
      status: r.status < 500 ? "ok" : "fail",
      detail: `${hub.apiUrl} answered ${r.status}, hub ${version}`,
    });
    const date = Date.parse(r.headers.get("date") ?? "");
    if (Number.isFinite(date)) {
      const skew = Math.abs(date - (t0 + Date.now()) / 2) / 1000;
      out.push(
        skew < 30
          ? { name: "clock", status: "ok", detail: `skew against the hub ${skew.toFixed(1)} s` }
          : {
            name: "clock",
            status: "warn",
            detail: `clock differs from the hub's by ${skew.toFixed(0)} s`,
            fix: "sync the clock (NTP): activity times would be off",
          },
      );
    }
  } catch (e) {
    out.push({
      name: "hub API",
      status: "fail",
      detail: `${hub.apiUrl} unreachable: ${(e as Error).message}`,
      fix: "check JUPYTERHUB_API_URL and the network from this server to the hub",
    });
  }
  return out;
}

/**
 * Can the home be prepared (root: as the launcher's `plan` says) or used (not root)? Nothing is
 * changed: only checked.
 */
async function homeCheck(config: Config, uid: number, plan?: LaunchPlan): Promise<Check> {
  if (plan) {
    const home = plan.home;
    const owner = `${plan.uid}:${plan.gid}`;
    const chown = plan.chown.find((c) => c.path === home);
    const then = chown ? `; chowned to ${owner}${chown.recursive ? " recursively" : ""}` : "";
    try {
      const st = await Deno.lstat(home);
      if (!st.isDirectory) {
        return {
          name: "home",
          status: "fail",
          detail: `${home} is not a directory${st.isSymlink ? " (a symbolic link)" : ""}`,
          fix: "choose another --home",
        };
      }
      return {
        name: "home",
        status: "ok",
        detail: `${home} exists (owner ${st.uid}:${st.gid})${then}`,
      };
    } catch { /* missing */ }
    const parent = home.slice(0, home.lastIndexOf("/")) || "/";
    try {
      if (!(await Deno.stat(parent)).isDirectory) throw new Error();
    } catch {
      return {
        name: "home",
        status: "fail",
        detail: `${home} cannot be created: ${parent} is not a directory`,
        fix: "create its parent, or choose another --home",
      };
    }
    return {
      name: "home",
      status: "ok",
      detail: `${home}: will be created${plan.drop ? ` and given to ${owner}` : ""}`,
    };
  }
  const home = config.home ?? Deno.env.get("HOME") ?? `/home/${config.user}`;
  try {
    const probeFile = `${home}/.hubify-doctor-${crypto.randomUUID()}`;
    await Deno.writeTextFile(probeFile, "");
    await Deno.remove(probeFile);
    return { name: "home", status: "ok", detail: `${home} is writable by uid ${uid}` };
  } catch (e) {
    return {
      name: "home",
      status: "warn",
      detail: `${home} is not writable by uid ${uid}: ${(e as Error).message}`,
      fix:
        "start as root (hubify chowns it), or give the volume group 100 (fsGroup) and group write",
    };
  }
}
