//! placeholder
/// Describes an object_store error for people.
pub fn describe_error(e: &object_store::Error) -> String {
    e.to_string()
}
