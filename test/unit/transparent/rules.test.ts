// The init-iptables rule set against proxy-init's documented output (reference §11.1, proxy-init's
// iptables.go/iptables_test.go) with meshlet's chain names and comment prefix, plus the install and
// uninstall plans computed against an existing nat table.
import { describe, expect, test } from "bun:test";

import { parseCidrs } from "../../../src/config/cidr.ts";
import { parsePortRanges } from "../../../src/config/values.ts";
import { type RedirectSettings, installScript, multiportGroups, ruleSet, splitSavedRule, uninstallCommands } from "../../../src/transparent/rules.ts";

const C = (name: string) => `-m comment --comment "meshlet-init/${name}"`;

// What Linkerd's injector passes: --incoming-proxy-port 4143 --outgoing-proxy-port 4140 --proxy-uid 2102
// --inbound-ports-to-ignore 4190,4191,4567,4568 --outbound-ports-to-ignore 4567,4568
const injectorDefaults: RedirectSettings = {
  inboundPort: 4143,
  outboundPort: 4140,
  proxyUid: 2102,
  skipInboundPorts: parsePortRanges("4190,4191,4567,4568"),
  skipOutboundPorts: parsePortRanges("4567,4568"),
  skipSubnets: [],
};

const cases: { name: string; settings: RedirectSettings; family?: 4 | 6; rules: string[] }[] = [
  {
    name: "the injector's default arguments",
    settings: injectorDefaults,
    rules: [
      `-A MESHLET_INIT_REDIRECT -p tcp -m multiport --dports 4190,4191,4567,4568 ${C("ignore-port-4190,4191,4567,4568")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -p tcp ${C("redirect-all-incoming-to-proxy-port")} -j REDIRECT --to-ports 4143`,
      `-A MESHLET_INIT_OUTPUT -m owner --uid-owner 2102 ${C("ignore-proxy-user-id")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -o lo ${C("ignore-loopback")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp -m multiport --dports 4567,4568 ${C("ignore-port-4567,4568")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp ${C("redirect-all-outgoing-to-proxy-port")} -j REDIRECT --to-ports 4140`,
    ],
  },
  {
    name: "ranges as lo:hi, subnets inbound only (on the source), no outbound port rule when none is skipped",
    settings: { ...injectorDefaults, skipInboundPorts: parsePortRanges("4190,4191,8000-8010"), skipOutboundPorts: [], skipSubnets: parseCidrs("10.1.2.3/8, 192.168.0.0/16, fd00::/8") },
    rules: [
      `-A MESHLET_INIT_REDIRECT -p tcp -m multiport --dports 4190,4191,8000:8010 ${C("ignore-port-4190,4191,8000:8010")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -s 10.0.0.0/8 ${C("ignore-subnet-10.0.0.0/8")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -s 192.168.0.0/16 ${C("ignore-subnet-192.168.0.0/16")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -p tcp ${C("redirect-all-incoming-to-proxy-port")} -j REDIRECT --to-ports 4143`,
      `-A MESHLET_INIT_OUTPUT -m owner --uid-owner 2102 ${C("ignore-proxy-user-id")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -o lo ${C("ignore-loopback")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp ${C("redirect-all-outgoing-to-proxy-port")} -j REDIRECT --to-ports 4140`,
    ],
  },
  {
    name: "IPv6 keeps only the IPv6 subnets",
    family: 6,
    settings: { ...injectorDefaults, skipInboundPorts: [], skipSubnets: parseCidrs("10.0.0.0/8,fd00::/8"), proxyUid: 1337, inboundPort: 15006, outboundPort: 15001 },
    rules: [
      `-A MESHLET_INIT_REDIRECT -s fd00::/8 ${C("ignore-subnet-fd00::/8")} -j RETURN`,
      `-A MESHLET_INIT_REDIRECT -p tcp ${C("redirect-all-incoming-to-proxy-port")} -j REDIRECT --to-ports 15006`,
      `-A MESHLET_INIT_OUTPUT -m owner --uid-owner 1337 ${C("ignore-proxy-user-id")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -o lo ${C("ignore-loopback")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp -m multiport --dports 4567,4568 ${C("ignore-port-4567,4568")} -j RETURN`,
      `-A MESHLET_INIT_OUTPUT -p tcp ${C("redirect-all-outgoing-to-proxy-port")} -j REDIRECT --to-ports 15001`,
    ],
  },
];

describe("rule set", () => {
  for (const c of cases) {
    test(c.name, () => {
      const rules = ruleSet(c.settings, c.family ?? 4);
      expect(rules.chainRules).toEqual(c.rules);
      expect(rules.jumps).toEqual([
        `-A PREROUTING ${C("install-prerouting")} -j MESHLET_INIT_REDIRECT`,
        `-A OUTPUT ${C("install-output")} -j MESHLET_INIT_OUTPUT`,
      ]);
    });
  }
});

describe("multiport groups (at most 15 references; a range counts 2)", () => {
  const cases: [string, string[][]][] = [
    ["", []],
    ["1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", [["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"]]],
    ["1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", [["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"], ["16"]]],
    ["1,2,3,4,5,6,7,8,9,10,11,12,13,14,20-30", [["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"], ["20:30"]]],
    ["100-200,300-400,500-600,700-800,900-1000,1100-1200,1300-1400,1500", [["100:200", "300:400", "500:600", "700:800", "900:1000", "1100:1200", "1300:1400", "1500"]]],
    ["9,9-9", [["9", "9"]]],
  ];
  for (const [ports, groups] of cases) test(ports || "(none)", () => expect(multiportGroups(parsePortRanges(ports))).toEqual(groups));
});

const SAVED_WITHOUT = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -d 10.9.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.9.9.8:80
COMMIT
`;
const SAVED_WITH = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MESHLET_INIT_OUTPUT - [0:0]
:MESHLET_INIT_REDIRECT - [0:0]
-A PREROUTING ${C("install-prerouting")} -j MESHLET_INIT_REDIRECT
-A OUTPUT -d 10.9.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.9.9.8:80
-A OUTPUT ${C("install-output")} -j MESHLET_INIT_OUTPUT
-A MESHLET_INIT_OUTPUT -o lo ${C("ignore-loopback")} -j RETURN
COMMIT
`;

describe("install and uninstall plans", () => {
  const rules = ruleSet(injectorDefaults, 4);
  test("a first install declares both chains, fills them and adds both jumps", () => {
    expect(installScript(rules, SAVED_WITHOUT)).toBe(
      ["*nat", ":MESHLET_INIT_REDIRECT - [0:0]", ":MESHLET_INIT_OUTPUT - [0:0]", ...rules.chainRules, ...rules.jumps, "COMMIT", ""].join("\n"),
    );
  });
  test("a second install refills the chains (declaring flushes) and adds no second jump", () => {
    expect(installScript(rules, SAVED_WITH)).toBe(
      ["*nat", ":MESHLET_INIT_REDIRECT - [0:0]", ":MESHLET_INIT_OUTPUT - [0:0]", ...rules.chainRules, "COMMIT", ""].join("\n"),
    );
  });
  test("uninstall deletes the jumps by their exact specification, then flushes and deletes the chains", () => {
    expect(uninstallCommands(SAVED_WITH)).toEqual([
      ["-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment", "meshlet-init/install-prerouting", "-j", "MESHLET_INIT_REDIRECT"],
      ["-t", "nat", "-D", "OUTPUT", "-m", "comment", "--comment", "meshlet-init/install-output", "-j", "MESHLET_INIT_OUTPUT"],
      ["-t", "nat", "-F", "MESHLET_INIT_REDIRECT"],
      ["-t", "nat", "-X", "MESHLET_INIT_REDIRECT"],
      ["-t", "nat", "-F", "MESHLET_INIT_OUTPUT"],
      ["-t", "nat", "-X", "MESHLET_INIT_OUTPUT"],
    ]);
  });
  test("uninstall with nothing installed does nothing", () => {
    expect(uninstallCommands(SAVED_WITHOUT)).toEqual([]);
  });
  test("saved rules split on spaces outside quotes", () => {
    expect(splitSavedRule(`OUTPUT -m comment --comment "a b \\"c\\"" -j X`)).toEqual(["OUTPUT", "-m", "comment", "--comment", 'a b "c"', "-j", "X"]);
  });
});

describe("CIDR setting", () => {
  test("IPv4 host bits are cleared as iptables prints them; IPv6 kept", () => {
    expect(parseCidrs("10.1.2.3/8,172.16.5.4/12,1.2.3.4/32,0.0.0.0/0, fd00::/8")).toEqual([
      { family: 4, text: "10.0.0.0/8" },
      { family: 4, text: "172.16.0.0/12" },
      { family: 4, text: "1.2.3.4/32" },
      { family: 4, text: "0.0.0.0/0" },
      { family: 6, text: "fd00::/8" },
    ]);
  });
  for (const bad of ["10.0.0.0", "10.0.0.0/33", "fd00::/129", "host/8", "10.0.0.0/x"]) {
    test(`rejects ${bad}`, () => expect(() => parseCidrs(bad)).toThrow(/CIDRs like/));
  }
});
