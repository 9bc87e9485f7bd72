/**
 * Per-carrier VAD tuning: BT PSTN lines, mobiles and VoIP ranges have different noise floors, so a
 * deployment can layer overrides by the other party's number prefix (longest prefix wins) between
 * the reference defaults and each state's own overrides.
 */
import { z } from "zod";
import {
  mergeVadConfig,
  type VadConfig,
  type VadConfigOverride,
  vadConfigOverrideSchema,
} from "../audio/vad-config";

/** `VAD_CARRIER_OVERRIDES`: `[{ "prefix": "+447", "vad": { "noise_gate_db": -38 }, "endpointing": {…} }]`. */
export const CarrierOverridesSchema = z.array(
  z
    .object({
      prefix: z.string().regex(/^\+[0-9]{1,8}$/, "prefix must be + and up to 8 digits"),
      vad: z.unknown().optional(),
      endpointing: z.unknown().optional(),
    })
    .transform((r, ctx) => {
      const parsed = vadConfigOverrideSchema.safeParse({
        ...(r.vad ? { vad: r.vad } : {}),
        ...(r.endpointing ? { endpointing: r.endpointing } : {}),
      });
      if (!parsed.success) {
        ctx.addIssue({
          code: "custom",
          message: `${r.prefix}: ${parsed.error.issues[0]?.message ?? "invalid override"}`,
        });
        return z.NEVER;
      }
      return { prefix: r.prefix, override: parsed.data };
    }),
);

export type CarrierOverrides = { prefix: string; override: VadConfigOverride }[];

/** The call's base VAD settings: defaults, then the longest matching carrier prefix. */
export function carrierVadConfig(
  defaults: VadConfig,
  overrides: CarrierOverrides,
  number: string,
): VadConfig {
  const match = overrides
    .filter((o) => number.startsWith(o.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return match ? mergeVadConfig(defaults, match.override) : mergeVadConfig(defaults);
}
