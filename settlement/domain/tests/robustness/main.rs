//! Settlement's readers under generated and damaged input, and the prepayment and clearing
//! formulas against an exact reference. `PROPTEST_CASES` sets the cases of every property (256
//! by default; README "Robustness under generated input").

mod clearing;
use kernel::mutation;
mod readers;
