import { z } from 'zod';

/** Body of `POST /signup`. */
export const signupRequestSchema = z.object({
  email: z.email(),
  /** BCP 47 language tag for the welcome email (default `en`). */
  locale: z.string().min(2).max(35).default('en'),
  /** Optional avatar to make a thumbnail of. */
  avatarUrl: z.url().optional(),
});

/** A validated signup request. */
export type SignupRequest = z.infer<typeof signupRequestSchema>;
