/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/tools/status_scp.cc - a C-STORE SCP for the gateway tests that
 * answers every C-STORE with the status it is told (storescp always
 * answers Success): 0xA700 to play a destination that refuses, 0xB007
 * for one that stores with a warning.
 *
 *   status_scp PORT STATUS   (STATUS in hex, e.g. A700)
 *
 * Serves one association at a time on 127.0.0.1 until killed; prints
 * "STORE <SOP Instance UID> <status>" per C-STORE, flushed.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: status_scp PORT STATUS\n");
        return 2;
    }
    int port = atoi(argv[1]);
    unsigned status = (unsigned)strtoul(argv[2], nullptr, 16);
    T_ASC_Network *net;
    if (ASC_initializeNetwork(NET_ACCEPTOR, port, 30, &net).bad()) {
        fprintf(stderr, "status_scp: cannot listen on %d\n", port);
        return 1;
    }
    std::vector<const char *> xfers;
    for (int i = EXS_LittleEndianImplicit; i <= EXS_HEVCMain10ProfileLevel5_1; i++) {
        DcmXfer x(static_cast<E_TransferSyntax>(i));
        if (x.getXfer() != EXS_Unknown && i != EXS_BigEndianImplicit)
            xfers.push_back(x.getXferID());
    }
    const char *verification[] = { UID_VerificationSOPClass };
    for (;;) {
        T_ASC_Association *assoc = nullptr;
        if (ASC_receiveAssociation(net, &assoc, ASC_DEFAULTMAXPDU).bad()) {
            if (assoc) {
                ASC_dropAssociation(assoc);
                ASC_destroyAssociation(&assoc);
            }
            continue;
        }
        ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1,
                                                        xfers.data(), (int)xfers.size());
        ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, dcmAllStorageSOPClassUIDs,
                                                        numberOfDcmAllStorageSOPClassUIDs,
                                                        xfers.data(), (int)xfers.size());
        if (ASC_acknowledgeAssociation(assoc).good()) {
            for (;;) {
                T_ASC_PresentationContextID pres;
                T_DIMSE_Message msg;
                OFCondition c = DIMSE_receiveCommand(assoc, DIMSE_BLOCKING, 0, &pres, &msg, nullptr);
                if (c == DUL_PEERREQUESTEDRELEASE) {
                    ASC_acknowledgeRelease(assoc);
                    break;
                }
                if (c.bad())
                    break;
                if (msg.CommandField == DIMSE_C_ECHO_RQ) {
                    DIMSE_sendEchoResponse(assoc, pres, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
                    continue;
                }
                if (msg.CommandField != DIMSE_C_STORE_RQ)
                    break;
                T_DIMSE_C_StoreRQ *req = &msg.msg.CStoreRQ;
                DcmDataset *ds = nullptr;
                T_ASC_PresentationContextID dp;
                c = DIMSE_receiveDataSetInMemory(assoc, DIMSE_BLOCKING, 0, &dp, &ds, nullptr, nullptr);
                delete ds;
                if (c.bad())
                    break;
                T_DIMSE_C_StoreRSP rsp;
                memset(&rsp, 0, sizeof rsp);
                rsp.MessageIDBeingRespondedTo = req->MessageID;
                rsp.DimseStatus = (DIC_US)status;
                rsp.DataSetType = DIMSE_DATASET_NULL;
                OFStandard::strlcpy(rsp.AffectedSOPClassUID, req->AffectedSOPClassUID,
                                    sizeof rsp.AffectedSOPClassUID);
                OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req->AffectedSOPInstanceUID,
                                    sizeof rsp.AffectedSOPInstanceUID);
                rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
                printf("STORE %s %04X\n", req->AffectedSOPInstanceUID, status);
                fflush(stdout);
                if (DIMSE_sendStoreResponse(assoc, pres, req, &rsp, nullptr).bad())
                    break;
            }
        }
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
    }
}
