//! (filled by the onboarding work)
