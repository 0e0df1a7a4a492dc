"""Names of Apache NiFi's processor and controller-service types, for honest suggestions.

A user coming from NiFi types the NiFi name of the component they want. When flowengine
does not have it yet, a did-you-mean over flowengine's own types only suggests something
unrelated (``GrokReader`` -> ``AvroReader``, ``RouteOnContent`` -> ``RouteOnAttribute``);
knowing NiFi's names lets the validator say the truth instead: "NiFi's GrokReader is not
available in flowengine yet". Names only (no behaviour), gathered from NiFi's standard
bundles as listed in the reference notes and the NiFi flow definitions of the conformance
suite; a name missing here only means the old did-you-mean is used.
"""

from __future__ import annotations

__all__ = ["NIFI_TYPES", "nifi_kind"]

_PROCESSORS = """
AttributesToCSV AttributesToJSON CalculateRecordStats CompressContent ConsumeAMQP
ConsumeJMS ConsumeKafka ConsumeKafkaRecord ConsumeMQTT ControlRate ConvertCharacterSet
ConvertJSONToSQL ConvertRecord CopyS3Object CountText CryptographicHashContent
DebugFlow DecryptContent DeduplicateRecord DeleteFile DeleteS3Object DetectDuplicate
DistributeLoad DuplicateFlowFile EncodeContent EncryptContent EnforceOrder
EvaluateJsonPath EvaluateXPath EvaluateXQuery ExecuteGroovyScript ExecuteProcess
ExecuteScript ExecuteSQL ExecuteSQLRecord ExecuteStreamCommand ExtractGrok
ExtractRecordSchema ExtractText FetchDistributedMapCache FetchFile FetchFTP
FetchS3Object FetchSFTP FilterAttribute FlattenJson ForkEnrichment ForkRecord
GenerateFlowFile GenerateRecord GenerateTableFetch GetFile GetFTP GetS3ObjectMetadata
GetS3ObjectTags GetSFTP HandleHttpRequest HandleHttpResponse IdentifyMimeType
InvokeHTTP JoinEnrichment JoltTransformJSON JoltTransformRecord ListDatabaseTables
ListenFTP ListenHTTP ListenSyslog ListenTCP ListenUDP ListFile ListFTP ListS3 ListSFTP
LogAttribute LogMessage LookupAttribute LookupRecord MergeContent MergeRecord
ModifyBytes ModifyCompression MonitorActivity Notify PackageFlowFile ParseSyslog
PartitionRecord PublishAMQP PublishJMS PublishKafka PublishKafkaRecord PublishMQTT
PutDatabaseRecord PutDistributedMapCache PutEmail PutFile PutFTP PutRecord PutS3Object
PutSFTP PutSQL PutSyslog PutTCP PutUDP QueryDatabaseTable QueryDatabaseTableRecord
QueryRecord RemoveRecordField RenameRecordField ReplaceText ReplaceTextWithMapping
RetryFlowFile RouteOnAttribute RouteOnContent RouteText SampleRecord ScanAttribute
ScanContent SegmentContent SplitAvro SplitContent SplitExcel SplitJson SplitRecord
SplitText SplitXml TagS3Object TailFile TransformXml UnpackContent UpdateAttribute
UpdateCounter UpdateDatabaseTable UpdateRecord ValidateCsv ValidateJson ValidateRecord
ValidateXml Wait
"""

_SERVICES = """
AvroReader AvroRecordSetWriter AvroSchemaRegistry AWSCredentialsProviderControllerService
CEFReader ConfluentEncodedSchemaReferenceReader ConfluentSchemaRegistry CSVReader
CSVRecordLookupService CSVRecordSetWriter DBCPConnectionPool DistributedMapCacheClientService
DistributedMapCacheServer ExcelReader FreeFormTextRecordSetWriter GrokReader
JASN1Reader JsonPathReader JsonRecordSetWriter JsonTreeReader Kafka3ConnectionService
MapCacheClientService MapCacheServer ParquetReader ParquetRecordSetWriter ReaderLookup
RecordSetWriterLookup ScriptedReader ScriptedRecordSetWriter SimpleCsvFileLookupService
SimpleKeyValueLookupService StandardProxyConfigurationService
StandardRestrictedSSLContextService StandardSSLContextService Syslog5424Reader
SyslogReader WindowsEventLogReader XMLReader XMLRecordSetWriter YamlTreeReader
"""

#: NiFi type name -> the registry kind it has in NiFi ("processor" or "service")
NIFI_TYPES: dict[str, str] = {
    **dict.fromkeys(_PROCESSORS.split(), "processor"),
    **dict.fromkeys(_SERVICES.split(), "service"),
}


def nifi_kind(name: str) -> tuple[str, str] | None:
    """``(NiFi's spelling, kind)`` when ``name`` (or the class part of a fully qualified
    ``org.apache.nifi...`` name), compared case-insensitively, is a NiFi type."""
    simple = name.rsplit(".", 1)[-1].lower()
    for n, kind in NIFI_TYPES.items():
        if n.lower() == simple:
            return n, kind
    return None
