//! Functions the pipeline SQL needs beyond DataFusion's own: the JSON functions of
//! `datafusion-functions-json` (bronze is JSON text), and `pseudonymise`, which is Rust because
//! its key is a secret that must never appear in SQL text, plans or logs.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionContext;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Registers every function the pipeline SQL uses.
pub fn register(ctx: &SessionContext, pseudonym_key: &SecretString) -> datafusion::error::Result<()> {
    let mut registry = ctx.clone();
    datafusion_functions_json::register_all(&mut registry)?;
    ctx.register_udf(ScalarUDF::from(Pseudonymise::new(pseudonym_key)));
    Ok(())
}

/// `pseudonymise(text) -> text`: hex HMAC-SHA-256 of the text under the pseudonymisation key.
/// The same id always gives the same hash (so a commenter's comments stay linked) and nobody
/// without the key can go back from the hash or test a guess.
struct Pseudonymise {
    key: SecretString,
    signature: Signature,
}

impl Pseudonymise {
    fn new(key: &SecretString) -> Self {
        Self { key: key.clone(), signature: Signature::string(1, Volatility::Immutable) }
    }
}

impl std::fmt::Debug for Pseudonymise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymise([REDACTED])")
    }
}

impl PartialEq for Pseudonymise {
    fn eq(&self, other: &Self) -> bool {
        self.key.expose_secret() == other.key.expose_secret()
    }
}
impl Eq for Pseudonymise {}
impl std::hash::Hash for Pseudonymise {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "pseudonymise".hash(state);
    }
}

impl ScalarUDFImpl for Pseudonymise {
    fn name(&self) -> &str {
        "pseudonymise"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let input = args.args[0].to_array(args.number_rows)?;
        let input = cast(&input, &DataType::Utf8)?;
        let input = input.as_any().downcast_ref::<arrow::array::StringArray>().expect("cast to Utf8");
        let mut out = StringBuilder::with_capacity(input.len(), input.len() * 64);
        let mac = Hmac::<Sha256>::new_from_slice(self.key.expose_secret().as_bytes()).expect("HMAC takes any key length");
        for value in input.iter() {
            match value {
                Some(text) => {
                    let mut mac = mac.clone();
                    mac.update(text.as_bytes());
                    out.append_value(hex::encode(mac.finalize().into_bytes()));
                }
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}
