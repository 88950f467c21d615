//! seqlab
