//! The IRIs of the vocabularies m-ld uses: RDF, XSD, m-ld's own, json-rql's and the default
//! list's (docs/protocol.md §3.2, §6.1), and the path of skolem IRIs.
//!
//! Constants only; must not hold any logic.

/// The RDF namespace (the wire context's `rdf:` prefix).
pub const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
/// `rdf:type`.
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
/// `rdf:subject`, of a reified triple.
pub const RDF_SUBJECT: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#subject";
/// `rdf:predicate`, of a reified triple.
pub const RDF_PREDICATE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate";
/// `rdf:object`, of a reified triple.
pub const RDF_OBJECT: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#object";
/// `rdf:JSON`, the datatype of JSON literals.
pub const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";

/// The XML Schema datatypes namespace (the wire context's `xs:` prefix).
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema#";
/// `xsd:string`.
pub const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
/// `xsd:integer`.
pub const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
/// `xsd:double`.
pub const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
/// `xsd:boolean`.
pub const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
/// `xsd:base64Binary`.
pub const XSD_BASE64_BINARY: &str = "http://www.w3.org/2001/XMLSchema#base64Binary";

/// `mld:tid`: the transaction ids of a reified triple in an operation.
pub const MLD_TID: &str = "http://m-ld.org/#tid";
/// `mld:op`: a shared-datatype operation on a reified triple.
pub const MLD_OP: &str = "http://m-ld.org/#op";

/// `jrql:item`: the item of a list slot.
pub const JRQL_ITEM: &str = "http://json-rql.org/#item";
/// `jrql:index`: the (entailed) index of a list slot.
pub const JRQL_INDEX: &str = "http://json-rql.org/#index";
/// The default list type, `http://m-ld.org/RdfLseq`.
pub const RDF_LSEQ: &str = "http://m-ld.org/RdfLseq";
/// The prefix of default-list position properties: `http://m-ld.org/RdfLseq/?=<pos-id>`.
pub const RDF_LSEQ_POS_ID_PREFIX: &str = "http://m-ld.org/RdfLseq/?=";
/// The prefix of the index-addressed list properties of a local write before its rewrite into
/// positions: `data:application/mld-li,<index>[,<sub-index>]`.
pub const LIST_INDEX_KEY_PREFIX: &str = "data:application/mld-li,";

/// The path, relative to a domain's base, under which skolem IRIs are minted.
pub const GENID_PATH: &str = ".well-known/genid/";
