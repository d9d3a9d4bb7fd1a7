"""The ledger: an RFC 6962 / RFC 9162 Merkle log of every decision and piece of evidence.

The tree functions (``leaf_hash``, ``root``, proofs and their verification) are a public API
that third parties can use on their own; ``open_ledger`` gives the stored, signed log.
"""

from twokey.ledger._assurance import Assurance, Level, assess
from twokey.ledger._bundle import ExportReport, ProofBundle, export_log, prove, verify_export
from twokey.ledger._entry import ENTRY_VERSION, Entry, EntryKind, canonical_json, parse_entry
from twokey.ledger._follow import Fetch, FollowReport, RemoteLogError, follow
from twokey.ledger._ledger import DEFAULT_LEDGER, Ledger, open_ledger
from twokey.ledger._merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from twokey.ledger._note import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    generate_signer,
    open_note,
    sign_note,
)
from twokey.ledger._records import (
    RECORD_SCHEMA,
    AccessRecord,
    DecisionRecord,
    DeployRecord,
    EvidenceRecord,
    ForgeDeliveryRecord,
    GatewayDeployRecord,
    LandedRecord,
    Record,
    RecordError,
    ReviewRecord,
    read_record,
    to_entry,
)
from twokey.ledger._store import Store, StoredCheckpoint
from twokey.ledger._tiles import (
    TileError,
    TileRef,
    TileResponse,
    TilesWritten,
    tile,
    write_tiles,
)
from twokey.ledger._urls import redact, split_schema
from twokey.ledger._verify import LedgerCorruptError, VerifyReport

__all__ = [
    "DEFAULT_LEDGER",
    "EMPTY_ROOT",
    "ENTRY_VERSION",
    "RECORD_SCHEMA",
    "AccessRecord",
    "Assurance",
    "Checkpoint",
    "DecisionRecord",
    "DeployRecord",
    "Entry",
    "EntryKind",
    "EvidenceRecord",
    "ExportReport",
    "Fetch",
    "FollowReport",
    "ForgeDeliveryRecord",
    "GatewayDeployRecord",
    "LandedRecord",
    "Ledger",
    "LedgerCorruptError",
    "Level",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "ProofBundle",
    "ProofError",
    "Record",
    "RecordError",
    "RemoteLogError",
    "ReviewRecord",
    "Store",
    "StoredCheckpoint",
    "TileError",
    "TileRef",
    "TileResponse",
    "TilesWritten",
    "VerifyReport",
    "assess",
    "canonical_json",
    "consistency_proof",
    "export_log",
    "follow",
    "generate_signer",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_ledger",
    "open_note",
    "parse_entry",
    "prove",
    "read_record",
    "redact",
    "root",
    "sign_note",
    "split_schema",
    "tile",
    "to_entry",
    "verify_consistency",
    "verify_export",
    "verify_inclusion",
    "write_tiles",
]
